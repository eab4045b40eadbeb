// GET /users/@me/guilds (the guilds the bot is a member of, as partial guilds with its permissions there) and
// POST /users/@me/channels (open, or reuse, the DM channel with one user). GET /users/@me itself lives with
// the login routes (compat-core).
#include <algorithm>

#include "compat-api/objects.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {
namespace {

using http::ApiError;
using http::FormErrors;
using http::Request;
using http::Response;

Response MyGuilds(ServerContext& ctx, Request& req) {
  FormErrors errors;
  auto before = QuerySnowflake(req, "before", errors);
  auto after = QuerySnowflake(req, "after", errors);
  int limit = QueryInt(req, "limit", 200, 1, 200, errors);
  bool with_counts = QueryBool(req, "with_counts", false, errors);
  errors.ThrowIfAny();
  std::vector<Guild> guilds;
  Status st = ctx.store.ListGuilds(&guilds);
  if (!st.ok()) ThrowStoreError(st, "listing guilds");
  std::sort(guilds.begin(), guilds.end(), [](const Guild& a, const Guild& b) { return a.id < b.id; });
  // Discord pages ascending by id; `before` alone gives the guilds right before the anchor.
  std::vector<const Guild*> mine;
  for (const auto& g : guilds) {
    if (before && g.id >= *before) continue;
    if (after && g.id <= *after) continue;
    Member m;
    if (ctx.store.GetMember(g.id, req.user.id, &m).ok()) mine.push_back(&g);
  }
  if (static_cast<int>(mine.size()) > limit) {
    if (before && !after) mine.erase(mine.begin(), mine.end() - limit);
    else mine.resize(static_cast<std::size_t>(limit));
  }
  Json out = Json::array();
  for (const Guild* g : mine) {
    Permissions p = 0;
    PermissionsInGuild(ctx.store, g->id, req.user.id, &p);
    Json full = objects::GuildJson(ctx, *g, with_counts);
    Json j = {{"id", objects::Id(g->id)},
              {"name", g->name.value_or("")},
              {"icon", full.value("icon", Json(nullptr))},
              {"banner", nullptr},
              {"owner", g->owner_id && *g->owner_id == req.user.id},
              {"permissions", std::to_string(p)},
              {"features", full.value("features", Json::array())}};
    if (with_counts) {
      j["approximate_member_count"] = full.value("approximate_member_count", Json(nullptr));
      j["approximate_presence_count"] = full.value("approximate_presence_count", Json(nullptr));
    }
    out.push_back(std::move(j));
  }
  return Response::Json(out);
}

Response OpenDm(ServerContext& ctx, Request& req) {
  const Json& body = JsonObjectBody(req);
  FormErrors errors;
  std::optional<Snowflake> recipient;
  auto it = body.find("recipient_id");
  if (it == body.end() || it->is_null()) {
    errors.Add("recipient_id", "BASE_TYPE_REQUIRED", "This field is required");
  } else if (!(recipient = JsonSnowflake(*it))) {
    errors.Add("recipient_id", "NUMBER_TYPE_COERCE", "Value \"" + it->dump() + "\" is not snowflake.");
  }
  errors.ThrowIfAny();
  User other = LoadUser(ctx, *recipient);

  std::vector<Channel> dms;
  Status st = ctx.store.ListChannels(0, &dms);
  if (!st.ok()) ThrowStoreError(st, "listing DM channels");
  const Snowflake me = req.user.id;
  for (const auto& c : dms) {
    if (c.type != kDm) continue;
    const auto& r = c.recipient_ids;
    bool has_me = std::find(r.begin(), r.end(), me) != r.end();
    bool has_other = std::find(r.begin(), r.end(), other.id) != r.end();
    // A DM with oneself has a single recipient.
    if (has_other && (has_me || (me == other.id && r.size() == 1)))
      return Response::Json(objects::ChannelJson(ctx, c, me));
  }
  Channel dm;
  dm.id = ctx.ids.Next();
  dm.type = kDm;
  dm.recipient_ids = me == other.id ? std::vector<Snowflake>{me} : std::vector<Snowflake>{me, other.id};
  st = ctx.store.UpsertChannel(dm, ApiSource(ctx));
  if (!st.ok()) ThrowStoreError(st, "creating a DM channel");
  // Bots get no CHANNEL_CREATE for DMs (Discord stopped sending it in v8); the first message announces it.
  return Response::Json(objects::ChannelJson(ctx, LoadChannel(ctx, dm.id), me));
}

const http::RouteRegistrar kMyGuilds{"GET", "/users/@me/guilds", "users_me_guilds", MyGuilds};
const http::RouteRegistrar kOpenDm{"POST", "/users/@me/channels", "users_me_channels", OpenDm};

}  // namespace
}  // namespace ferry::compat::rest
