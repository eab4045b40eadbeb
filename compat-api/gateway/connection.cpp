#include "compat-api/gateway/connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/http/auth.hpp"
#include "compat-api/http/router.hpp"
#include "compat-api/objects.hpp"
#include "store/snowflake.hpp"

namespace ferry::compat::gateway {
namespace {

constexpr std::int64_t kHeartbeatGraceMs = 20000;
constexpr std::size_t kMaxQueuedBytes = 8u << 20;

bool IsInteger(const Json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

}  // namespace

std::optional<std::string> ParseConnectOptions(std::string_view query, ConnectOptions* out) {
  for (const auto& [k, v] : http::ParseQuery(query)) {
    if (k == "v") {
      int ver = 0;
      for (char c : v) {
        if (c < '0' || c > '9') return "invalid gateway version \"" + v + "\"";
        ver = ver * 10 + (c - '0');
        if (ver > 1000) break;
      }
      if (ver != 0 && (ver < 6 || ver > 10)) return "unsupported gateway version " + v;
      if (ver) out->version = ver;
    } else if (k == "encoding") {
      if (v != "json") return "unsupported encoding \"" + v + "\" (only json)";
      out->encoding = v;
    } else if (k == "compress") {
      if (v == "zlib-stream") out->zlib_stream = true;
      else if (!v.empty()) return "unsupported compression \"" + v + "\" (only zlib-stream)";
    }
  }
  return std::nullopt;
}

GatewayConnection::GatewayConnection(ServerContext& ctx, Hub& hub, ConnectOptions opts, std::string remote)
    : ctx_(ctx), hub_(hub), opts_(std::move(opts)), remote_(std::move(remote)) {
  if (opts_.zlib_stream) zlib_ = std::make_unique<ZlibStream>();
  hub_.AddConnection(this);
}

GatewayConnection::~GatewayConnection() {
  hub_.RemoveConnection(this);
  if (session_) hub_.Detach(*session_, this, ctx_.NowMs());
}

void GatewayConnection::OnOpen() {
  opened_ms_ = last_heartbeat_ms_ = window_start_ms_ = ctx_.NowMs();
  SendOp(10, Json{{"heartbeat_interval", kHeartbeatIntervalMs}, {"_trace", Json::array({"ferry-gateway"})}});
}

void GatewayConnection::SendOp(int op, const Json& d) {
  SendPayload(Json{{"t", nullptr}, {"s", nullptr}, {"op", op}, {"d", d}}.dump());
}

void GatewayConnection::SendPayload(std::string payload) {
  if (closing_ || closed_) return;
  if (QueuedBytes() > kMaxQueuedBytes) {
    // The client reads slower than events arrive; it resumes from the replay buffer on a new socket.
    spdlog::warn("gateway {}: client too slow ({} bytes queued), closing", remote_, QueuedBytes());
    Close(4000, "Client too slow");
    return;
  }
  if (zlib_) WriteFrame(zlib_->Compress(payload), true);
  else WriteFrame(std::move(payload), false);
}

void GatewayConnection::Close(int code, std::string_view reason) {
  if (closing_ || closed_) return;
  closing_ = true;
  // Codes after which Discord's clients must not resume end the session now; others keep it resumable.
  bool fatal = code == 4004 || code == 4010 || code == 4011 || code == 4012 || code == 4013 || code == 4014;
  EndSession(!fatal);
  spdlog::debug("gateway {}: closing {} {}", remote_, code, reason);
  WriteClose(code, std::string(reason));
}

void GatewayConnection::EndSession(bool resumable) {
  if (!session_) return;
  if (resumable) hub_.Detach(*session_, this, ctx_.NowMs());
  else hub_.End(session_->id);
  session_.reset();
}

void GatewayConnection::OnClosed(int client_code) {
  if (closed_) return;
  closed_ = true;
  // 1000/1001 from the client: the bot logged out. Anything else (4000, 4200, a dropped socket): resumable.
  EndSession(!(client_code == 1000 || client_code == 1001));
}

void GatewayConnection::CheckDeadlines(std::int64_t now_ms) {
  if (closing_ || closed_) return;
  if (!session_ && now_ms - opened_ms_ >
                       std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.limits.identify_timeout).count()) {
    Close(4003, "Not authenticated.");
    return;
  }
  if (now_ms - last_heartbeat_ms_ > kHeartbeatIntervalMs + kHeartbeatGraceMs) Close(4009, "Session timed out.");
}

void GatewayConnection::OnMessage(std::string_view data, bool binary) {
  if (closing_ || closed_) return;
  if (binary) {
    Close(4002, "Error while decoding payload.");
    return;
  }
  Json msg = Json::parse(data, nullptr, false);
  if (msg.is_discarded() || !msg.is_object() || !msg.contains("op") || !IsInteger(msg["op"])) {
    Close(4002, "Error while decoding payload.");
    return;
  }
  int op = msg["op"].get<int>();
  static const Json kNull = nullptr;
  const Json& d = msg.contains("d") ? msg["d"] : kNull;
  std::int64_t now = ctx_.NowMs();

  if (op != 1) {
    if (now - window_start_ms_ >= 60000) {
      window_start_ms_ = now;
      window_ops_ = 0;
    }
    if (++window_ops_ > ctx_.limits.gateway_sends_per_minute) {
      Close(4008, "Rate limited.");
      return;
    }
  }

  switch (op) {
    case 1:
      last_heartbeat_ms_ = now;
      if (session_ && IsInteger(d)) hub_.Ack(*session_, d.get<std::uint64_t>());
      SendOp(11, nullptr);
      return;
    case 2:
      if (session_) return Close(4005, "Already authenticated.");
      return HandleIdentify(d);
    case 6:
      if (session_) return Close(4005, "Already authenticated.");
      return HandleResume(d);
    default:
      break;
  }
  // Client ops Discord defines (presence, voice state, lazy guild requests, soundboard, ...): accepted and
  // ignored, except member requests.
  static const int kKnown[] = {3, 4, 5, 8, 12, 13, 14, 18, 19, 20, 22, 23, 24, 31, 34, 36, 37, 40, 41, 43};
  bool known = false;
  for (int k : kKnown) known = known || k == op;
  if (!known) return Close(4001, "Unknown opcode.");
  if (!session_) return Close(4003, "Not authenticated.");
  if (op == 8) HandleRequestMembers(d);
}

void GatewayConnection::HandleIdentify(const Json& d) {
  if (!d.is_object() || !d.contains("token") || !d["token"].is_string()) return Close(4002, "Error while decoding payload.");
  std::string token(http::TokenFromAuthorization(d["token"].get<std::string>()));
  Bot bot;
  User user;
  if (token.empty() || !ctx_.store.FindBotByTokenHash(http::TokenHash(token), &bot).ok() || bot.revoked)
    return Close(4004, "Authentication failed.");
  if (!ctx_.store.GetUser(bot.user_id, &user).ok()) {
    user.id = bot.user_id;
    user.username = bot.name;
  }
  user.bot = true;
  if (!d.contains("intents") || !IsInteger(d["intents"])) return Close(4013, "Invalid intent(s).");
  std::uint64_t want = d["intents"].get<std::uint64_t>();
  if (want & ~intents::kAll) return Close(4013, "Invalid intent(s).");
  if ((want & intents::kPrivileged) && !bot.privileged_intents) return Close(4014, "Disallowed intent(s).");
  int shard_id = 0, shard_count = 1;
  if (d.contains("shard") && !d["shard"].is_null()) {
    const Json& s = d["shard"];
    if (!s.is_array() || s.size() != 2 || !IsInteger(s[0]) || !IsInteger(s[1])) return Close(4010, "Invalid shard.");
    shard_id = s[0].get<int>();
    shard_count = s[1].get<int>();
    if (shard_count < 1 || shard_id < 0 || shard_id >= shard_count) return Close(4010, "Invalid shard.");
  }
  int large_threshold = 50;
  if (d.contains("large_threshold") && IsInteger(d["large_threshold"]))
    large_threshold = std::clamp(d["large_threshold"].get<int>(), 50, 250);

  // Only guilds that still exist in the store: discord.js waits for a GUILD_CREATE for every READY guild.
  std::vector<Guild> guilds;
  std::vector<Snowflake> existing;
  for (Snowflake gid : bot.guild_ids) {
    Guild g;
    if (ctx_.store.GetGuild(gid, &g).ok()) {
      existing.push_back(gid);
      guilds.push_back(std::move(g));
    }
  }
  bot.guild_ids = existing;
  session_ = hub_.CreateSession(bot, user, want, shard_id, shard_count);
  hub_.Attach(*session_, this);
  spdlog::info("gateway {}: {} ({}) identified, intents {}, {} guild(s)", remote_, bot.name, bot.user_id, want,
               session_->guild_ids.size());

  dispatch::ReadyInfo info;
  info.session_id = session_->id;
  info.resume_gateway_url = ctx_.gateway_url;
  info.guild_ids = session_->guild_ids;
  info.shard_id = shard_id;
  info.shard_count = shard_count;
  hub_.SendTo(*session_, "READY", dispatch::Ready(ctx_, bot, user, info));
  for (const auto& g : guilds) {
    if (!session_) return;
    if (std::find(session_->guild_ids.begin(), session_->guild_ids.end(), g.id) == session_->guild_ids.end()) continue;
    Json gc = objects::GuildCreateJson(ctx_, g, bot.user_id, large_threshold);
    hub_.SendTo(*session_, "GUILD_CREATE", gc);
  }
}

void GatewayConnection::HandleResume(const Json& d) {
  if (!d.is_object() || !d.contains("token") || !d["token"].is_string() || !d.contains("session_id") ||
      !d["session_id"].is_string())
    return Close(4002, "Error while decoding payload.");
  std::string token(http::TokenFromAuthorization(d["token"].get<std::string>()));
  Bot bot;
  if (token.empty() || !ctx_.store.FindBotByTokenHash(http::TokenHash(token), &bot).ok() || bot.revoked)
    return Close(4004, "Authentication failed.");
  std::uint64_t seq = 0;
  if (d.contains("seq") && IsInteger(d["seq"])) seq = d["seq"].get<std::uint64_t>();
  auto s = hub_.Find(d["session_id"].get<std::string>());
  if (!s || s->bot.user_id != bot.user_id) {
    SendOp(9, false);
    return;
  }
  if (s->connection && s->connection != this) s->connection->Close(4009, "Session resumed elsewhere.");
  session_ = s;
  hub_.Attach(*s, this);
  if (!hub_.Replay(*s, seq)) {
    spdlog::info("gateway {}: cannot resume session {} from seq {}", remote_, s->id, seq);
    hub_.End(s->id);
    session_.reset();
    SendOp(9, false);
    return;
  }
  spdlog::info("gateway {}: {} resumed session {} from seq {}", remote_, s->bot.name, s->id, seq);
  hub_.SendTo(*s, "RESUMED", dispatch::Resumed());
}

void GatewayConnection::HandleRequestMembers(const Json& d) {
  if (!d.is_object() || !d.contains("guild_id")) return Close(4002, "Error while decoding payload.");
  std::vector<Snowflake> guilds;
  auto add = [&](const Json& v) {
    std::optional<Snowflake> id;
    if (v.is_string()) id = ParseSnowflake(v.get<std::string>());
    else if (IsInteger(v)) id = v.get<std::uint64_t>();
    if (id) guilds.push_back(*id);
  };
  if (d["guild_id"].is_array()) for (const auto& v : d["guild_id"]) add(v);
  else add(d["guild_id"]);
  std::string query = d.contains("query") && d["query"].is_string() ? d["query"].get<std::string>() : "";
  int limit = d.contains("limit") && IsInteger(d["limit"]) ? d["limit"].get<int>() : 0;
  std::vector<Snowflake> user_ids;
  if (d.contains("user_ids")) {
    const Json& u = d["user_ids"];
    auto add_user = [&](const Json& v) {
      if (v.is_string()) {
        if (auto id = ParseSnowflake(v.get<std::string>())) user_ids.push_back(*id);
      } else if (IsInteger(v)) {
        user_ids.push_back(v.get<std::uint64_t>());
      }
    };
    if (u.is_array()) for (const auto& v : u) add_user(v);
    else add_user(u);
  }
  Json nonce = d.contains("nonce") ? d["nonce"] : Json(nullptr);
  // Discord ignores a nonce longer than 32 bytes (the chunks then carry none).
  if (nonce.is_string() && nonce.get<std::string>().size() > 32) nonce = nullptr;
  if (!session_ || guilds.empty()) return;
  // Discord's limits on this op (Gateway docs, "Request Guild Members"): one guild per request (the first);
  // the entire member list (no user_ids, empty query) needs GUILD_MEMBERS, else the request is dropped
  // without an answer or a close, as Discord does; presences need GUILD_PRESENCES, else they are off.
  const Snowflake g = guilds.front();
  if (user_ids.empty() && query.empty() && !(session_->intents & intents::kGuildMembers)) {
    spdlog::debug("gateway {}: member list request for guild {} without GUILD_MEMBERS intent: ignored", remote_, g);
    return;
  }
  const bool presences = d.contains("presences") && d["presences"].is_boolean() && d["presences"].get<bool>() &&
                         (session_->intents & intents::kGuildPresences);
  if (std::find(session_->guild_ids.begin(), session_->guild_ids.end(), g) == session_->guild_ids.end()) return;
  for (auto& chunk : dispatch::GuildMembersChunks(ctx_, g, query, user_ids, limit, nonce)) {
    if (presences) chunk["presences"] = Json::array();  // nobody has a presence on an archive
    hub_.SendTo(*session_, "GUILD_MEMBERS_CHUNK", chunk);
  }
}

}  // namespace ferry::compat::gateway
