#include "compat-api/rest/common.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "compat-api/render_cache.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {

using http::ApiError;

void ThrowStoreError(const Status& st, std::string_view what) {
  spdlog::error("store error while {}: {}", what, st.ToString());
  throw ApiError(http::InternalError());
}

Channel LoadChannel(ServerContext& ctx, Snowflake channel_id) {
  RenderCache* cache = ctx.render_cache && ctx.render_cache->active() ? ctx.render_cache : nullptr;
  if (cache) {
    if (const std::optional<Channel>* hit = cache->FindChannel(channel_id)) {
      if (!*hit) throw ApiError(http::UnknownChannel());
      return **hit;
    }
  }
  Channel c;
  Status st = ctx.store.GetChannel(channel_id, &c);
  if (st.IsNotFound()) {
    if (cache) cache->PutChannel(channel_id, std::nullopt);
    throw ApiError(http::UnknownChannel());
  }
  if (!st.ok()) ThrowStoreError(st, "loading a channel");
  if (cache) cache->PutChannel(channel_id, c);
  return c;
}

Guild LoadGuild(ServerContext& ctx, Snowflake guild_id) {
  Guild g;
  Status st = ctx.store.GetGuild(guild_id, &g);
  if (st.IsNotFound()) throw ApiError(http::UnknownGuild());
  if (!st.ok()) ThrowStoreError(st, "loading a guild");
  return g;
}

Message LoadMessage(ServerContext& ctx, Snowflake channel_id, Snowflake message_id) {
  Message m;
  Status st = ctx.store.GetMessage(channel_id, message_id, &m);
  if (st.IsNotFound() || (st.ok() && (m.deleted || m.channel_id != channel_id)))
    throw ApiError(http::UnknownMessage());
  if (!st.ok()) ThrowStoreError(st, "loading a message");
  return m;
}

User LoadUser(ServerContext& ctx, Snowflake user_id) {
  User u;
  Status st = ctx.store.GetUser(user_id, &u);
  if (st.IsNotFound()) throw ApiError(http::UnknownUser());
  if (!st.ok()) ThrowStoreError(st, "loading a user");
  return u;
}

Guild LoadGuildForBot(ServerContext& ctx, const http::Request& req, Snowflake guild_id) {
  Guild g = LoadGuild(ctx, guild_id);
  Member m;
  Status st = ctx.store.GetMember(guild_id, req.user.id, &m);
  if (st.IsNotFound()) throw ApiError(http::MissingAccess());
  if (!st.ok()) ThrowStoreError(st, "loading the bot's member");
  return g;
}

Permissions ChannelPermissions(ServerContext& ctx, const http::Request& req, const Channel& channel) {
  RenderCache* cache = ctx.render_cache && ctx.render_cache->active() ? ctx.render_cache : nullptr;
  if (cache)
    if (const std::uint64_t* hit = cache->FindPermissions(req.user.id, channel.id)) return *hit;
  Permissions p = 0;
  Status st = PermissionsInChannel(ctx.store, channel, req.user.id, &p);
  if (st.IsNotFound()) p = 0;  // a guild row missing behind a channel: nobody may act there
  else if (!st.ok()) ThrowStoreError(st, "computing permissions");
  if (cache) cache->PutPermissions(req.user.id, channel.id, p);
  return p;
}

Permissions RequireChannelPermissions(ServerContext& ctx, const http::Request& req, const Channel& channel,
                                      Permissions needed) {
  Permissions p = ChannelPermissions(ctx, req, channel);
  if (!(p & perm::kViewChannel)) throw ApiError(http::MissingAccess());
  if (!Has(p, needed)) throw ApiError(http::MissingPermissions());
  return p;
}

Permissions RequireGuildPermissions(ServerContext& ctx, const http::Request& req, Snowflake guild_id,
                                    Permissions needed) {
  Permissions p = 0;
  Status st = PermissionsInGuild(ctx.store, guild_id, req.user.id, &p);
  if (st.IsNotFound()) throw ApiError(http::UnknownGuild());
  if (!st.ok()) ThrowStoreError(st, "computing permissions");
  if (!Has(p, needed)) throw ApiError(http::MissingPermissions());
  return p;
}

Permissions SendBitFor(const Channel& channel) {
  return IsThreadType(channel.type) ? perm::kSendMessagesInThreads : perm::kSendMessages;
}

std::optional<Snowflake> JsonSnowflake(const Json& v) {
  if (v.is_string()) return ParseSnowflake(v.get<std::string>());
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    auto i = v.get<std::int64_t>();
    if (i >= 0) return static_cast<Snowflake>(i);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> JsonBitfield(const Json& v) { return JsonSnowflake(v); }

int QueryInt(const http::Request& req, std::string_view name, int fallback, int min, int max,
             http::FormErrors& errors) {
  auto q = req.Query(name);
  if (!q) return fallback;
  long long v = 0;
  const char* b = q->data();
  const char* e = b + q->size();
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (q->empty() || ec != std::errc() || ptr != e) {
    errors.Add(name, "NUMBER_TYPE_COERCE", "Value \"" + *q + "\" is not int.");
    return fallback;
  }
  if (v < min) {
    errors.Add(name, "NUMBER_TYPE_MIN", "Int value should be greater than or equal to " + std::to_string(min) + ".");
    return fallback;
  }
  if (v > max) {
    errors.Add(name, "NUMBER_TYPE_MAX", "Int value should be less than or equal to " + std::to_string(max) + ".");
    return fallback;
  }
  return static_cast<int>(v);
}

std::optional<Snowflake> QuerySnowflake(const http::Request& req, std::string_view name, http::FormErrors& errors) {
  auto q = req.Query(name);
  if (!q) return std::nullopt;
  auto id = ParseSnowflake(*q);
  if (!id) errors.Add(name, "NUMBER_TYPE_COERCE", "Value \"" + *q + "\" is not snowflake.");
  return id;
}

bool QueryBool(const http::Request& req, std::string_view name, bool fallback, http::FormErrors& errors) {
  auto q = req.Query(name);
  if (!q) return fallback;
  if (*q == "true" || *q == "True" || *q == "1") return true;
  if (*q == "false" || *q == "False" || *q == "0") return false;
  errors.Add(name, "BOOLEAN_TYPE_COERCE", "Value \"" + *q + "\" is not a valid boolean.");
  return fallback;
}

const Json& JsonObjectBody(http::Request& req) {
  const Json& body = req.JsonBody();
  if (!body.is_object())
    http::ThrowFormError("_root", "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
  return body;
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + static_cast<std::size_t>(n) >= s.size() + (n == 0 ? 1 : 0)) return false;
    std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += static_cast<std::size_t>(n) + 1;
  }
  return true;
}

std::size_t CharCount(std::string_view utf8) {
  std::size_t n = 0;
  for (char ch : utf8)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
  return n;
}

Source ApiSource(const ServerContext& ctx) { return Source{0, ctx.NowMs()}; }

}  // namespace ferry::compat::rest
