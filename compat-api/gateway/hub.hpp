// The embedded Fanout: gateway sessions of this process, their routing indexes and resume buffers.
//
// A Session is the logical, resumable gateway session (session_id, bot, intents, sequence, replay buffer);
// a Connection is one WebSocket. A session outlives its connection for Limits::resume_window so a client that
// lost its socket (or closed with a resumable code) can RESUME on a new connection and get every dispatch it
// missed, with the original sequence numbers. The replay buffer is trimmed by the sequence numbers the client
// acknowledges in its heartbeats, and bounded (Limits::resume_buffer_*): when it overflows, RESUME answers
// INVALID_SESSION false and the client re-IDENTIFYs.
//
// Everything here runs on the server thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "compat-api/context.hpp"
#include "compat-api/gateway/fanout.hpp"

namespace ferry::compat::gateway {

// A live WebSocket as the hub sees it.
class Connection {
 public:
  virtual ~Connection() = default;
  // Queues one gateway payload (JSON text); compression is the connection's business.
  virtual void SendPayload(std::string payload) = 0;
  // Sends a close frame after what is queued, then drops the socket.
  virtual void Close(int code, std::string_view reason) = 0;
  // Called by the hub's sweep: closes the connection if it missed its heartbeat / identify deadline.
  virtual void CheckDeadlines(std::int64_t now_ms) = 0;
};

struct Session {
  std::string id;
  Bot bot;
  User user;
  std::uint64_t intents = 0;
  int shard_id = 0, shard_count = 1;
  std::vector<Snowflake> guild_ids;  // after shard filtering
  std::uint64_t seq = 0;             // last sequence number assigned

  // A dispatch as published: shared by every session that buffers it, so a busy server keeps one copy of
  // each event however many sessions may still need to replay it.
  struct Dispatch {
    std::string t;
    std::string d;  // serialised payload data
  };
  struct Buffered {
    std::uint64_t seq;
    std::shared_ptr<const Dispatch> dispatch;
  };
  std::deque<Buffered> replay;
  std::size_t replay_bytes = 0;
  std::uint64_t replay_dropped_through = 0;  // sequences <= this were dropped unacknowledged

  Connection* connection = nullptr;  // nullptr while detached
  std::int64_t detached_at_ms = 0;
};

class Hub : public Fanout {
 public:
  Hub() = default;
  void set_context(ServerContext* ctx) { ctx_ = ctx; }

  void Publish(DispatchEvent event) override;
  bool MayDeliver(Snowflake guild_id, const std::vector<Snowflake>& user_ids) const override;

  // A new session for an IDENTIFY that passed validation.
  std::shared_ptr<Session> CreateSession(const Bot& bot, const User& user, std::uint64_t intents, int shard_id,
                                         int shard_count);
  std::shared_ptr<Session> Find(const std::string& session_id) const;
  void Attach(Session& s, Connection* c);
  // The connection is gone but the session stays resumable.
  void Detach(Session& s, Connection* c, std::int64_t now_ms);
  // The session ended (client closed 1000/1001, INVALID_SESSION false, or it expired).
  void End(const std::string& session_id);

  // One dispatch to one session (READY, GUILD_CREATE, GUILD_MEMBERS_CHUNK, RESUMED...): assigns the next
  // sequence number, buffers it for resume, sends it if attached.
  void SendTo(Session& s, std::string_view t, const Json& d);
  // Client acknowledged everything up to `seq` (heartbeat d): trims the replay buffer.
  void Ack(Session& s, std::uint64_t seq);
  // Re-sends the buffered dispatches after `seq` to the attached connection; false when some were dropped.
  bool Replay(Session& s, std::uint64_t seq);

  // Connections register so the sweep can enforce their deadlines.
  void AddConnection(Connection* c) { connections_.insert(c); }
  void RemoveConnection(Connection* c) { connections_.erase(c); }

  // Expires detached sessions and enforces connection deadlines; called every few seconds.
  void Sweep(std::int64_t now_ms);

  std::size_t session_count() const { return sessions_.size(); }
  std::size_t connection_count() const { return connections_.size(); }
  std::size_t events_published() const { return published_; }

  // Builds an op 0 payload: {"t":t,"s":seq,"op":0,"d":d_json}.
  static std::string DispatchPayload(std::string_view t, std::uint64_t seq, std::string_view d_json);

 private:
  void Deliver(Session& s, const std::shared_ptr<const Session::Dispatch>& d);
  bool CanView(Snowflake user_id, Snowflake channel_id, std::unordered_map<Snowflake, bool>* cache);

  ServerContext* ctx_ = nullptr;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
  std::unordered_map<Snowflake, std::vector<Session*>> by_guild_;
  std::unordered_map<Snowflake, std::vector<Session*>> by_user_;
  std::unordered_set<Connection*> connections_;
  std::size_t published_ = 0;
};

}  // namespace ferry::compat::gateway
