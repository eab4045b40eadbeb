#include "compat-api/gateway/hub.hpp"

#include <algorithm>

#include <openssl/rand.h>

namespace ferry::compat::gateway {
namespace {

std::string NewSessionId() {
  unsigned char buf[16];
  RAND_bytes(buf, sizeof buf);
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (unsigned char c : buf) {
    id.push_back(hex[c >> 4]);
    id.push_back(hex[c & 15]);
  }
  return id;
}

void EraseFrom(std::unordered_map<Snowflake, std::vector<Session*>>& index, Snowflake key, Session* s) {
  auto it = index.find(key);
  if (it == index.end()) return;
  auto& v = it->second;
  v.erase(std::remove(v.begin(), v.end(), s), v.end());
  if (v.empty()) index.erase(it);
}

// The message fields MESSAGE_CONTENT guards.
Json StripContent(const Json& d) {
  Json out = d;
  if (out.is_object()) {
    if (out.contains("content")) out["content"] = "";
    if (out.contains("embeds")) out["embeds"] = Json::array();
    if (out.contains("attachments")) out["attachments"] = Json::array();
    if (out.contains("components")) out["components"] = Json::array();
    out.erase("poll");
  }
  return out;
}

}  // namespace

std::string Hub::DispatchPayload(std::string_view t, std::uint64_t seq, std::string_view d_json) {
  std::string p;
  p.reserve(d_json.size() + t.size() + 40);
  p.append("{\"t\":\"").append(t).append("\",\"s\":").append(std::to_string(seq)).append(",\"op\":0,\"d\":");
  p.append(d_json).append("}");
  return p;
}

std::shared_ptr<Session> Hub::CreateSession(const Bot& bot, const User& user, std::uint64_t intents, int shard_id,
                                            int shard_count) {
  auto s = std::make_shared<Session>();
  s->id = NewSessionId();
  s->bot = bot;
  s->user = user;
  s->intents = intents;
  s->shard_id = shard_id;
  s->shard_count = shard_count < 1 ? 1 : shard_count;
  for (Snowflake g : bot.guild_ids)
    if (((g >> 22) % static_cast<std::uint64_t>(s->shard_count)) == static_cast<std::uint64_t>(shard_id))
      s->guild_ids.push_back(g);
  for (Snowflake g : s->guild_ids) by_guild_[g].push_back(s.get());
  by_user_[user.id].push_back(s.get());
  sessions_[s->id] = s;
  return s;
}

std::shared_ptr<Session> Hub::Find(const std::string& session_id) const {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : it->second;
}

void Hub::Attach(Session& s, Connection* c) {
  s.connection = c;
  s.detached_at_ms = 0;
}

void Hub::Detach(Session& s, Connection* c, std::int64_t now_ms) {
  if (s.connection != c) return;  // a newer connection already took the session over
  s.connection = nullptr;
  s.detached_at_ms = now_ms;
}

void Hub::End(const std::string& session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  Session* s = it->second.get();
  for (Snowflake g : s->guild_ids) EraseFrom(by_guild_, g, s);
  EraseFrom(by_user_, s->user.id, s);
  sessions_.erase(it);
}

void Hub::Deliver(Session& s, const std::shared_ptr<const Session::Dispatch>& d) {
  std::uint64_t seq = ++s.seq;
  s.replay.push_back({seq, d});
  s.replay_bytes += d->d.size() + d->t.size();
  std::size_t max_events = ctx_ ? ctx_->limits.resume_buffer_events : 2048;
  std::size_t max_bytes = ctx_ ? ctx_->limits.resume_buffer_bytes : 4u << 20;
  while (!s.replay.empty() && (s.replay.size() > max_events || s.replay_bytes > max_bytes)) {
    s.replay_bytes -= s.replay.front().dispatch->d.size() + s.replay.front().dispatch->t.size();
    s.replay_dropped_through = s.replay.front().seq;
    s.replay.pop_front();
  }
  if (s.connection) s.connection->SendPayload(DispatchPayload(d->t, seq, d->d));
}

void Hub::SendTo(Session& s, std::string_view t, const Json& d) {
  auto disp = std::make_shared<Session::Dispatch>();
  disp->t = std::string(t);
  disp->d = d.dump(-1, ' ', false, Json::error_handler_t::replace);
  Deliver(s, disp);
}

void Hub::Ack(Session& s, std::uint64_t seq) {
  while (!s.replay.empty() && s.replay.front().seq <= seq) {
    s.replay_bytes -= s.replay.front().dispatch->d.size() + s.replay.front().dispatch->t.size();
    s.replay.pop_front();
  }
}

bool Hub::Replay(Session& s, std::uint64_t seq) {
  if (seq > s.seq) return false;                  // the client claims events we never sent
  if (seq < s.replay_dropped_through) return false;  // some it missed are gone
  if (!s.connection) return false;
  for (const auto& b : s.replay)
    if (b.seq > seq) s.connection->SendPayload(DispatchPayload(b.dispatch->t, b.seq, b.dispatch->d));
  return true;
}

bool Hub::CanView(Snowflake user_id, Snowflake channel_id, std::unordered_map<Snowflake, bool>* cache) {
  if (!ctx_ || !ctx_->can_view_channel) return true;
  auto it = cache->find(user_id);
  if (it != cache->end()) return it->second;
  Channel ch;
  bool visible = true;
  if (ctx_->store.GetChannel(channel_id, &ch).ok()) visible = ctx_->can_view_channel(user_id, ch);
  (*cache)[user_id] = visible;
  return visible;
}

void Hub::Publish(DispatchEvent ev) {
  ++published_;
  std::vector<Session*> targets;
  if (ev.guild_id) {
    auto it = by_guild_.find(ev.guild_id);
    if (it != by_guild_.end()) targets = it->second;
  } else {
    for (Snowflake u : ev.user_ids) {
      auto it = by_user_.find(u);
      if (it == by_user_.end()) continue;
      for (Session* s : it->second)
        if (std::find(targets.begin(), targets.end(), s) == targets.end()) targets.push_back(s);
    }
  }
  if (targets.empty()) return;

  std::shared_ptr<Session::Dispatch> full, stripped;
  std::unordered_map<Snowflake, bool> view_cache;
  for (Session* s : targets) {
    if (ev.intents && !(s->intents & ev.intents)) continue;
    if (ev.channel_id && !CanView(s->user.id, ev.channel_id, &view_cache)) continue;
    bool strip = ev.message_content && ev.guild_id && !(s->intents & intents::kMessageContent) &&
                 s->user.id != ev.author_id &&
                 std::find(ev.mentioned_user_ids.begin(), ev.mentioned_user_ids.end(), s->user.id) ==
                     ev.mentioned_user_ids.end();
    auto& slot = strip ? stripped : full;
    if (!slot) {
      slot = std::make_shared<Session::Dispatch>();
      slot->t = ev.t;
      slot->d = (strip ? StripContent(ev.d) : ev.d).dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    Deliver(*s, slot);
  }
}

bool Hub::MayDeliver(Snowflake guild_id, const std::vector<Snowflake>& user_ids) const {
  if (guild_id) return by_guild_.count(guild_id) != 0;
  for (Snowflake u : user_ids)
    if (by_user_.count(u)) return true;
  return false;
}

void Hub::Sweep(std::int64_t now_ms) {
  std::vector<Connection*> conns(connections_.begin(), connections_.end());
  for (Connection* c : conns)
    if (connections_.count(c)) c->CheckDeadlines(now_ms);
  std::int64_t window = ctx_ ? std::chrono::duration_cast<std::chrono::milliseconds>(ctx_->limits.resume_window).count()
                             : 180000;
  std::vector<std::string> expired;
  for (const auto& [id, s] : sessions_)
    if (!s->connection && s->detached_at_ms && now_ms - s->detached_at_ms > window) expired.push_back(id);
  for (const auto& id : expired) End(id);
}

}  // namespace ferry::compat::gateway
