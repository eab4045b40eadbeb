// PUT/DELETE /channels/{channel_id}/permissions/{overwrite_id}: a role's (type 0) or member's (type 1)
// permission overwrite on a guild channel. Needs MANAGE_ROLES there, and (unless ADMINISTRATOR) the bot may
// only allow or deny bits it has itself, as on Discord. Answers 204 and dispatches CHANNEL_UPDATE.
#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {
namespace {

using http::ApiError;
using http::FormErrors;
using http::Request;
using http::Response;

Channel LoadOverwritable(ServerContext& ctx, const Request& req, Permissions* perms) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  if (!channel.guild_id) throw ApiError(400, 50003, "Cannot execute action on a DM channel");
  if (IsThreadType(channel.type)) throw ApiError(400, 50024, "Cannot execute action on this channel type");
  *perms = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel | perm::kManageRoles);
  return channel;
}

void DispatchUpdated(ServerContext& ctx, Snowflake channel_id) {
  Channel updated;
  if (ctx.store.GetChannel(channel_id, &updated).ok()) dispatch::ChannelUpdate(ctx, updated);
}

Response PutOverwrite(ServerContext& ctx, Request& req) {
  Permissions perms = 0;
  Channel channel = LoadOverwritable(ctx, req, &perms);
  Snowflake target = req.SnowflakeParam("overwrite_id");
  const Json& body = JsonObjectBody(req);
  FormErrors errors;
  Overwrite o;
  o.id = target;
  auto type = body.find("type");
  if (type == body.end() || type->is_null()) {
    errors.Add("type", "BASE_TYPE_REQUIRED", "This field is required");
  } else if (type->is_number_integer() && (type->get<int>() == 0 || type->get<int>() == 1)) {
    o.type = type->get<int>();
  } else if (type->is_string() && (*type == "role" || *type == "member")) {
    o.type = *type == "role" ? 0 : 1;  // the pre-v8 spelling some clients still send
  } else {
    errors.Add("type", "BASE_TYPE_CHOICES", "Value must be one of (0, 1).");
  }
  for (const char* key : {"allow", "deny"}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    auto bits = JsonBitfield(*it);
    if (!bits) errors.Add(key, "NUMBER_TYPE_COERCE", "Value \"" + it->dump() + "\" is not int.");
    else if (*bits & ~kAllPermissions) errors.Add(key, "PERMISSIONS_INVALID", "Invalid permission bits.");
    else (std::string(key) == "allow" ? o.allow : o.deny) = *bits;
  }
  errors.ThrowIfAny();
  o.deny &= ~o.allow;  // a bit both allowed and denied is allowed (Discord applies deny first, then allow)

  if (o.type == 0) {
    Role r;
    Status st = ctx.store.GetRole(target, &r);
    if (st.IsNotFound() && target == *channel.guild_id) st = Status::Ok(), r.guild_id = target;  // @everyone
    if (st.IsNotFound() || (st.ok() && r.guild_id != *channel.guild_id)) throw ApiError(http::UnknownRole());
    if (!st.ok()) ThrowStoreError(st, "loading a role");
  } else {
    Member m;
    Status st = ctx.store.GetMember(*channel.guild_id, target, &m);
    if (st.IsNotFound()) throw ApiError(http::UnknownMember());
    if (!st.ok()) ThrowStoreError(st, "loading a member");
  }
  if (!(perms & perm::kAdministrator) && ((o.allow | o.deny) & ~perms)) throw ApiError(http::MissingPermissions());

  Status st = ctx.store.PutOverwrite(channel.id, o);
  if (!st.ok()) ThrowStoreError(st, "writing an overwrite");
  DispatchUpdated(ctx, channel.id);
  return Response::NoContent();
}

Response DeleteOverwrite(ServerContext& ctx, Request& req) {
  Permissions perms = 0;
  Channel channel = LoadOverwritable(ctx, req, &perms);
  Snowflake target = req.SnowflakeParam("overwrite_id");
  Status st = ctx.store.DeleteOverwrite(channel.id, target);
  if (st.IsNotFound()) return Response::NoContent();  // already gone: deleting is idempotent
  if (!st.ok()) ThrowStoreError(st, "deleting an overwrite");
  DispatchUpdated(ctx, channel.id);
  return Response::NoContent();
}

const http::RouteRegistrar kPut{"PUT", "/channels/{channel_id}/permissions/{overwrite_id}", "channel_permissions",
                                PutOverwrite};
const http::RouteRegistrar kDelete{"DELETE", "/channels/{channel_id}/permissions/{overwrite_id}",
                                   "channel_permissions", DeleteOverwrite};

}  // namespace
}  // namespace ferry::compat::rest
