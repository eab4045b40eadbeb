// ServerContext: everything a REST handler or a dispatch builder needs from the running server, passed by
// reference to every handler. One per `ferry serve` process.
//
// Threading contract: the whole server (HTTP sessions, gateway sessions, handlers, fan-out) runs on ONE
// io_context thread. `store`, `ids`, `fanout` and the caches below are used from that thread only, so handlers
// never lock. A handler must not block for long (no sleeps, no network): every other client waits meanwhile.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "store/model.hpp"
#include "store/snowflake.hpp"
#include "store/store.hpp"
#include "store/timestamp.hpp"

namespace ferry::compat {

class Fanout;
class RenderCache;

// Bounds on what a client may send or hold. Defaults are what `ferry serve` uses.
struct Limits {
  std::size_t max_header_bytes = 16 * 1024;           // request line + headers; 431 beyond
  std::size_t max_json_body_bytes = 1024 * 1024;      // application/json bodies; 413 beyond
  std::size_t max_upload_bytes = 25 * 1024 * 1024;    // multipart bodies (Discord's default attachment limit)
  std::size_t max_ws_frame_bytes = 16 * 1024;         // client gateway frames; close 4002 beyond (Discord: 4096 B payload)
  std::size_t max_connections = 4096;                 // accepted sockets; more are closed at once
  std::chrono::seconds idle_timeout{60};              // HTTP keep-alive idle, and slow clients mid-request
  std::chrono::seconds identify_timeout{30};          // gateway: HELLO → IDENTIFY/RESUME, close 4003 when late
  std::chrono::seconds resume_window{180};            // how long a dropped gateway session stays resumable
  std::size_t resume_buffer_events = 2048;            // dispatches kept per session for RESUME replay
  std::size_t resume_buffer_bytes = 4 * 1024 * 1024;  // ... and their total size; beyond either, RESUME fails (op 9 false)
  int gateway_sends_per_minute = 120;                 // client ops (heartbeats exempt); close 4008 beyond
  std::size_t max_attachments_per_message = 10;
  std::size_t max_content_chars = 2000;
};

struct ServerContext {
  Store& store;
  // New ids for everything created through the API. Its floor is the highest id in the store at start-up, so
  // new objects sort after everything imported.
  SnowflakeGenerator& ids;
  // Where dispatch builders publish gateway events (gateway/fanout.hpp).
  Fanout& fanout;

  // Public base URLs as clients must use them (from --public-url, else the listen address), no trailing '/'.
  std::string api_base;     // "http://127.0.0.1:8080/api"   (clients append /v10/...)
  std::string gateway_url;  // "ws://127.0.0.1:8080"          (no path, no query: discord.js appends "?v=10...")
  std::string cdn_base;     // "http://127.0.0.1:8080/cdn"    (attachments: {cdn_base}/attachments/{ch}/{id}/{name})
  std::string public_base;  // "http://127.0.0.1:8080"        (scheme://host:port)

  Limits limits;

  // Rendered messages and lookups kept between requests (compat-api/render_cache.hpp); null = no caching.
  RenderCache* render_cache = nullptr;

  // Permission hook used by the gateway to decide whether the bot `user_id` can see `channel` (VIEW_CHANNEL,
  // threads via their parent). compat-api/permissions.* provides the algorithm; cli/serve.cpp installs it.
  // Unset = every channel is visible.
  std::function<bool(Snowflake user_id, const Channel& channel)> can_view_channel;

  // Wall clock in ms, replaceable in tests.
  std::function<std::int64_t()> now_ms;
  std::int64_t NowMs() const { return now_ms ? now_ms() : ::ferry::NowMs(); }
};

}  // namespace ferry::compat
