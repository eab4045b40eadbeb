// GET and PATCH /channels/{channel_id}.
// PATCH of a guild channel needs MANAGE_CHANNELS (and MANAGE_ROLES for permission_overwrites); of a thread,
// MANAGE_THREADS or being its creator (locking and slow mode always need MANAGE_THREADS). DMs cannot be
// modified. Answers the updated channel and dispatches CHANNEL_UPDATE / THREAD_UPDATE.
#include <algorithm>

#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/objects.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {
namespace {

using http::ApiError;
using http::FormErrors;
using http::Request;
using http::Response;

Response GetChannel(ServerContext& ctx, Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  RequireChannelPermissions(ctx, req, channel, perm::kViewChannel);
  return Response::Json(objects::ChannelJson(ctx, channel, req.user.id));
}

bool ValidArchiveDuration(std::int64_t v) { return v == 60 || v == 1440 || v == 4320 || v == 10080; }

std::optional<std::string> StringField(const Json& body, const char* key, std::size_t min, std::size_t max,
                                       bool nullable, FormErrors& errors, bool* present) {
  auto it = body.find(key);
  *present = it != body.end();
  if (!*present) return std::nullopt;
  if (it->is_null()) {
    if (!nullable) errors.Add(key, "BASE_TYPE_REQUIRED", "This field is required");
    return std::string();
  }
  if (!it->is_string()) {
    errors.Add(key, "STRING_TYPE_CONVERT", "Could not interpret \"" + it->dump() + "\" as string.");
    return std::nullopt;
  }
  const std::string& s = it->get_ref<const std::string&>();
  std::size_t n = CharCount(s);
  if (!IsValidUtf8(s)) errors.Add(key, "STRING_TYPE_CONVERT", "Not valid UTF-8.");
  else if (n < min || n > max)
    errors.Add(key, "BASE_TYPE_BAD_LENGTH",
               "Must be between " + std::to_string(min) + " and " + std::to_string(max) + " in length.");
  return s;
}

std::optional<std::int64_t> IntField(const Json& body, const char* key, std::int64_t min, std::int64_t max,
                                     FormErrors& errors) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) {
    errors.Add(key, "NUMBER_TYPE_COERCE", "Value \"" + it->dump() + "\" is not int.");
    return std::nullopt;
  }
  auto v = it->get<std::int64_t>();
  if (v < min) errors.Add(key, "NUMBER_TYPE_MIN", "Int value should be greater than or equal to " + std::to_string(min) + ".");
  else if (v > max) errors.Add(key, "NUMBER_TYPE_MAX", "Int value should be less than or equal to " + std::to_string(max) + ".");
  else return v;
  return std::nullopt;
}

std::optional<bool> BoolField(const Json& body, const char* key, FormErrors& errors) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) {
    errors.Add(key, "BOOLEAN_TYPE_COERCE", "Value must be a boolean.");
    return std::nullopt;
  }
  return it->get<bool>();
}

Response PatchThread(ServerContext& ctx, Request& req, Channel channel, Permissions perms, const Json& body) {
  const bool manage = perms & perm::kManageThreads;
  const bool owner = channel.owner_id && *channel.owner_id == req.user.id;
  FormErrors errors;
  bool present = false;
  auto name = StringField(body, "name", 1, 100, false, errors, &present);
  auto archived = BoolField(body, "archived", errors);
  auto locked = BoolField(body, "locked", errors);
  auto invitable = BoolField(body, "invitable", errors);
  auto slow = IntField(body, "rate_limit_per_user", 0, 21600, errors);
  auto duration = IntField(body, "auto_archive_duration", 60, 10080, errors);
  if (duration && !ValidArchiveDuration(*duration))
    errors.Add("auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of (60, 1440, 4320, 10080).");
  errors.ThrowIfAny();
  if (!manage) {
    if (!owner || locked || slow || invitable) throw ApiError(http::MissingPermissions());
    if (channel.locked.value_or(false)) throw ApiError(400, 50083, "Thread is locked");
  }
  if (name) channel.name = *name;
  if (locked) channel.locked = *locked;
  if (invitable) channel.extra["invitable"] = *invitable;
  if (slow) channel.rate_limit_per_user = static_cast<int>(*slow);
  if (duration) channel.extra["auto_archive_duration"] = *duration;
  if (archived && *archived != channel.archived.value_or(false)) {
    channel.archived = *archived;
    channel.extra["archive_timestamp_ms"] = ctx.NowMs();
  }
  Status st = ctx.store.UpsertChannel(channel, ApiSource(ctx));
  if (!st.ok()) ThrowStoreError(st, "updating a thread");
  Channel stored = LoadChannel(ctx, channel.id);
  dispatch::ThreadUpdate(ctx, stored);
  return Response::Json(objects::ChannelJson(ctx, stored, req.user.id));
}

Response PatchChannel(ServerContext& ctx, Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  if (!channel.guild_id) throw ApiError(400, 50003, "Cannot execute action on a DM channel");
  const Json& body = JsonObjectBody(req);
  if (IsThreadType(channel.type)) {
    Permissions perms = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel);
    return PatchThread(ctx, req, channel, perms, body);
  }
  Permissions perms = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel | perm::kManageChannels);

  FormErrors errors;
  bool present = false;
  auto name = StringField(body, "name", 1, 100, false, errors, &present);
  auto topic = StringField(body, "topic", 0, channel.type == kGuildForum || channel.type == kGuildMedia ? 4096 : 1024,
                           true, errors, &present);
  auto position = IntField(body, "position", 0, 1 << 30, errors);
  auto nsfw = BoolField(body, "nsfw", errors);
  auto slow = IntField(body, "rate_limit_per_user", 0, 21600, errors);
  auto bitrate = IntField(body, "bitrate", 8000, 384000, errors);
  auto user_limit = IntField(body, "user_limit", 0, 99, errors);
  auto default_archive = IntField(body, "default_auto_archive_duration", 60, 10080, errors);
  if (default_archive && !ValidArchiveDuration(*default_archive))
    errors.Add("default_auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of (60, 1440, 4320, 10080).");
  if (auto t = body.find("type"); t != body.end() && !t->is_null()) {
    // Only text <-> announcement conversions exist on Discord.
    bool ok = t->is_number_integer() && (t->get<int>() == channel.type ||
                                         ((channel.type == kGuildText || channel.type == kGuildAnnouncement) &&
                                          (t->get<int>() == kGuildText || t->get<int>() == kGuildAnnouncement)));
    if (!ok) errors.Add("type", "CHANNEL_TYPE_INVALID", "Cannot convert the channel to this type.");
  }
  std::optional<Snowflake> parent;
  bool parent_present = false;
  if (auto p = body.find("parent_id"); p != body.end()) {
    parent_present = true;
    if (p->is_null()) {
      parent = 0;
    } else if (auto id = JsonSnowflake(*p)) {
      Channel cat;
      if (!ctx.store.GetChannel(*id, &cat).ok() || cat.type != kGuildCategory || cat.guild_id != channel.guild_id)
        errors.Add("parent_id", "CHANNEL_PARENT_INVALID", "Category does not exist");
      else parent = *id;
    } else {
      errors.Add("parent_id", "NUMBER_TYPE_COERCE", "Value \"" + p->dump() + "\" is not snowflake.");
    }
  }
  std::optional<std::vector<Overwrite>> overwrites;
  if (auto o = body.find("permission_overwrites"); o != body.end() && !o->is_null()) {
    if (!o->is_array()) {
      errors.Add("permission_overwrites", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
    } else {
      overwrites.emplace();
      for (std::size_t i = 0; i < o->size(); ++i) {
        const Json& e = (*o)[i];
        std::string path = "permission_overwrites." + std::to_string(i);
        std::optional<Snowflake> id;
        if (e.is_object() && e.contains("id")) id = JsonSnowflake(e["id"]);
        int type = -1;
        if (e.is_object() && e.contains("type") && e["type"].is_number_integer()) type = e["type"].get<int>();
        if (!id) { errors.Add(path + ".id", "NUMBER_TYPE_COERCE", "Value is not snowflake."); continue; }
        if (type != 0 && type != 1) { errors.Add(path + ".type", "BASE_TYPE_CHOICES", "Value must be one of (0, 1)."); continue; }
        Overwrite ow{*id, type, 0, 0};
        for (const char* key : {"allow", "deny"}) {
          if (!e.contains(key) || e[key].is_null()) continue;
          auto bits = JsonBitfield(e[key]);
          if (!bits || (*bits & ~kAllPermissions)) errors.Add(path + "." + key, "PERMISSIONS_INVALID", "Invalid permission bits.");
          else (std::string(key) == "allow" ? ow.allow : ow.deny) = *bits;
        }
        overwrites->push_back(ow);
      }
    }
  }
  errors.ThrowIfAny();
  if (overwrites && !(perms & perm::kManageRoles)) throw ApiError(http::MissingPermissions());

  if (name) channel.name = *name;
  if (topic) channel.topic = *topic;
  if (position) channel.position = static_cast<int>(*position);
  if (nsfw) channel.nsfw = *nsfw;
  if (slow) channel.rate_limit_per_user = static_cast<int>(*slow);
  if (bitrate) channel.extra["bitrate"] = *bitrate;
  if (user_limit) channel.extra["user_limit"] = *user_limit;
  if (default_archive) channel.extra["default_auto_archive_duration"] = *default_archive;
  if (auto t = body.find("type"); t != body.end() && t->is_number_integer()) channel.type = t->get<int>();
  if (parent_present && parent) channel.parent_id = *parent;

  Status st = ctx.store.Begin();
  if (st.ok()) {
    Channel to_write = channel;
    to_write.overwrites.reset();  // overwrites change row by row below, never by a whole-list merge
    st = ctx.store.UpsertChannel(to_write, ApiSource(ctx));
  }
  if (st.ok() && overwrites) {
    for (const auto& old : channel.overwrites.value_or(std::vector<Overwrite>{})) {
      bool kept = std::any_of(overwrites->begin(), overwrites->end(), [&](const Overwrite& n) { return n.id == old.id; });
      if (!kept && st.ok()) st = ctx.store.DeleteOverwrite(channel.id, old.id);
    }
    for (const auto& n : *overwrites)
      if (st.ok()) st = ctx.store.PutOverwrite(channel.id, n);
  }
  if (st.ok()) st = ctx.store.Commit();
  if (!st.ok()) {
    ctx.store.Rollback();
    ThrowStoreError(st, "updating a channel");
  }
  Channel stored = LoadChannel(ctx, channel.id);
  dispatch::ChannelUpdate(ctx, stored);
  return Response::Json(objects::ChannelJson(ctx, stored, req.user.id));
}

const http::RouteRegistrar kGet{"GET", "/channels/{channel_id}", "channel_get", GetChannel};
const http::RouteRegistrar kPatch{"PATCH", "/channels/{channel_id}", "channel_patch", PatchChannel};

}  // namespace
}  // namespace ferry::compat::rest
