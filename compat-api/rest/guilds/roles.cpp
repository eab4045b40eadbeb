// GET /guilds/{guild_id}/roles and /guilds/{guild_id}/roles/{role_id}. Roles imported without permissions
// are shown with the permissions the algorithm gives them (compat-api/permissions.hpp: Discord's default
// @everyone set, 0 for other roles), so what a bot reads matches what it is allowed.
#include <algorithm>

#include "compat-api/objects.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {
namespace {

Json Render(const Role& r) { return objects::RoleJson(r, RolePermissions(r)); }

http::Response ListRoles(ServerContext& ctx, http::Request& req) {
  Snowflake gid = req.SnowflakeParam("guild_id");
  LoadGuildForBot(ctx, req, gid);
  std::vector<Role> roles;
  Status st = ctx.store.ListRoles(gid, &roles);
  if (!st.ok()) ThrowStoreError(st, "listing roles");
  bool everyone = std::any_of(roles.begin(), roles.end(), [&](const Role& r) { return r.id == gid; });
  Json out = Json::array();
  if (!everyone) {
    // Every Discord guild has @everyone; an import that never saw it still answers with one.
    Role r;
    r.id = gid;
    r.guild_id = gid;
    r.name = "@everyone";
    r.position = 0;
    out.push_back(Render(r));
  }
  for (const auto& r : roles) out.push_back(Render(r));
  return http::Response::Json(out);
}

http::Response GetRole(ServerContext& ctx, http::Request& req) {
  Snowflake gid = req.SnowflakeParam("guild_id");
  Snowflake rid = req.SnowflakeParam("role_id");
  LoadGuildForBot(ctx, req, gid);
  Role r;
  Status st = ctx.store.GetRole(rid, &r);
  if (st.IsNotFound() || (st.ok() && r.guild_id != gid)) {
    if (rid != gid) throw http::ApiError(http::UnknownRole());
    r = Role{};
    r.id = gid;
    r.guild_id = gid;
    r.name = "@everyone";
    r.position = 0;
  } else if (!st.ok()) {
    ThrowStoreError(st, "loading a role");
  }
  return http::Response::Json(Render(r));
}

const http::RouteRegistrar kList{"GET", "/guilds/{guild_id}/roles", "guild_roles_get", ListRoles};
const http::RouteRegistrar kGet{"GET", "/guilds/{guild_id}/roles/{role_id}", "guild_roles_get", GetRole};

}  // namespace
}  // namespace ferry::compat::rest
