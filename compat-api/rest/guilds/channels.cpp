// GET /guilds/{guild_id}/channels: the guild's channels without threads (Discord lists threads separately),
// all of them as Discord does for bots, ordered by position then id.
#include "compat-api/objects.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {
namespace {

http::Response ListGuildChannels(ServerContext& ctx, http::Request& req) {
  Snowflake gid = req.SnowflakeParam("guild_id");
  LoadGuildForBot(ctx, req, gid);
  std::vector<Channel> channels;
  Status st = ctx.store.ListChannels(gid, &channels);
  if (!st.ok()) ThrowStoreError(st, "listing channels");
  Json out = Json::array();
  for (const auto& c : channels)
    if (!IsThreadType(c.type)) out.push_back(objects::ChannelJson(ctx, c, req.user.id));
  return http::Response::Json(out);
}

const http::RouteRegistrar kList{"GET", "/guilds/{guild_id}/channels", "guild_channels_get", ListGuildChannels};

}  // namespace
}  // namespace ferry::compat::rest
