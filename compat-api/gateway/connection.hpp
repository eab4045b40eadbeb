// One gateway WebSocket: the v10 protocol as a client sees it, independent of the socket type (plain or TLS;
// the transport subclass in http/server.cpp does the I/O).
//
//   open        → HELLO {heartbeat_interval: 41250}
//   op 1        → op 11 ACK, at any time (also before IDENTIFY); d = last seq received trims the replay buffer
//   op 2        → bad token 4004, unknown intent bits 4013, privileged intents not granted 4014, bad shard 4010,
//                 second IDENTIFY 4005; else READY then one GUILD_CREATE per guild
//   op 6        → replay of missed dispatches with their original seq, then RESUMED d:{}; unknown or expired
//                 session (or replay impossible) → op 9 d:false
//   op 8        → GUILD_MEMBERS_CHUNK(s) echoing nonce (≤ 32 bytes), first guild only; the whole member list
//                 without the GUILD_MEMBERS intent gets no answer, presences only with GUILD_PRESENCES
//   op 3, 4 and other client ops Discord defines are accepted and ignored; unknown op 4001; anything but
//   1/2/6 before IDENTIFY 4003; malformed JSON or a binary frame 4002; more than 120 ops a minute
//   (heartbeats excepted) 4008; no heartbeat for interval + 20 s → 4009; no IDENTIFY/RESUME in time → 4003.
// Compression: only with ?compress=zlib-stream — one deflate context per connection, BINARY frames.
// A client close with 1000/1001 ends the session; any other end (4000, 4200, a cut socket) keeps it
// resumable for Limits::resume_window.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "compat-api/context.hpp"
#include "compat-api/gateway/hub.hpp"
#include "compat-api/gateway/zlib_stream.hpp"

namespace ferry::compat::gateway {

constexpr int kHeartbeatIntervalMs = 41250;

// Query options of the upgrade request (?v=10&encoding=json&compress=zlib-stream).
struct ConnectOptions {
  int version = 10;
  std::string encoding = "json";
  bool zlib_stream = false;
};
// Parses the query string of the upgrade target; an error message for unsupported encodings/versions.
std::optional<std::string> ParseConnectOptions(std::string_view query, ConnectOptions* out);

class GatewayConnection : public Connection {
 public:
  GatewayConnection(ServerContext& ctx, Hub& hub, ConnectOptions opts, std::string remote);
  ~GatewayConnection() override;

  // ---- called by the transport ----
  void OnOpen();
  void OnMessage(std::string_view data, bool binary);
  // The socket is gone. `client_code`: the client's close code, 0 when the socket just dropped.
  void OnClosed(int client_code);

  // ---- Connection ----
  void SendPayload(std::string payload) override;
  void Close(int code, std::string_view reason) override;
  void CheckDeadlines(std::int64_t now_ms) override;

  bool closing() const { return closing_; }

 protected:
  // Transport primitives: queue a frame; send a close frame after the queue and drop the socket.
  virtual void WriteFrame(std::string data, bool binary) = 0;
  virtual void WriteClose(int code, std::string reason) = 0;
  virtual std::size_t QueuedBytes() const = 0;

 private:
  void SendOp(int op, const Json& d);
  void HandleIdentify(const Json& d);
  void HandleResume(const Json& d);
  void HandleRequestMembers(const Json& d);
  void EndSession(bool resumable);

  ServerContext& ctx_;
  Hub& hub_;
  ConnectOptions opts_;
  std::string remote_;
  std::unique_ptr<ZlibStream> zlib_;
  std::shared_ptr<Session> session_;
  std::int64_t opened_ms_ = 0;
  std::int64_t last_heartbeat_ms_ = 0;
  std::int64_t window_start_ms_ = 0;
  int window_ops_ = 0;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace ferry::compat::gateway
