// GET /guilds/{guild_id}[?with_counts=true]: the guild with its roles, for guilds the bot is a member of
// (403 50001 for others, 10004 for unknown ids).
#include "compat-api/objects.hpp"
#include "compat-api/rest/common.hpp"

namespace ferry::compat::rest {
namespace {

http::Response GetGuild(ServerContext& ctx, http::Request& req) {
  http::FormErrors errors;
  bool with_counts = QueryBool(req, "with_counts", false, errors);
  errors.ThrowIfAny();
  Guild g = LoadGuildForBot(ctx, req, req.SnowflakeParam("guild_id"));
  return http::Response::Json(objects::GuildJson(ctx, g, with_counts));
}

const http::RouteRegistrar kGetGuild{"GET", "/guilds/{guild_id}", "guild_get", GetGuild};

}  // namespace
}  // namespace ferry::compat::rest
