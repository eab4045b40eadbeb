// Answers one plain HTTP request (everything but the gateway's WebSocket upgrade), transport-free so it can be
// unit-tested without sockets:
//   /api, /api/v9, /api/v10 ...   → the route table (router.hpp): 404/405 shapes, auth, rate limits, handler
//   /cdn/...                      → attachment, avatar, icon and emoji bytes from the blob store, no token
//   /.well-known/spacebar[/client] → Spacebar discovery
//   anything else                 → 404 {"message": "404: Not Found", "code": 0}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "compat-api/context.hpp"
#include "compat-api/http/rate_limit.hpp"
#include "compat-api/http/router.hpp"

namespace ferry::compat::http {

class ApiHandler {
 public:
  ApiHandler(ServerContext& ctx, RateLimiter& limiter, Router& router = Router::Global());

  // `target`: the raw request target ("/api/v10/channels/1/messages?limit=5"). req.method, req.headers,
  // req.body / req.parts and req.remote must be filled; path, query and params are filled here.
  // `route_out` (optional) receives the matched route pattern for logs.
  Response Handle(Request& req, std::string_view target, std::string* route_out = nullptr);

  // Forget cached token lookups (after `ferry bot revoke` the server notices within the cache TTL anyway).
  void ClearAuthCache() { auth_cache_.clear(); }

 private:
  Response HandleApi(Request& req, std::string_view target, std::string* route_out);
  bool Authenticate(Request& req);

  ServerContext& ctx_;
  RateLimiter& limiter_;
  Router& router_;
  struct CachedBot {
    Bot bot;
    User user;
    std::int64_t expires_ms = 0;
    bool valid = false;
  };
  std::unordered_map<std::string, CachedBot> auth_cache_;
};

// CDN (cdn.cpp): GET/HEAD /cdn/attachments/{channel_id}/{attachment_id}/{filename}, /cdn/avatars/{user_id}/
// {hash}.{ext}, /cdn/icons/{guild_id}/{hash}.{ext}, /cdn/emojis/{emoji_id}.{ext}. A blob that was never
// downloaded redirects (302) to the URL the source recorded when that is an http(s) URL, else 404.
Response ServeCdn(ServerContext& ctx, std::string_view path);

// Spacebar discovery outside /api (discovery.cpp): /.well-known/spacebar and /.well-known/spacebar/client.
// nullopt for other paths.
std::optional<Response> ServeWellKnown(ServerContext& ctx, std::string_view path);

// A Content-Type for bytes, from their magic number, else from the file name's extension.
std::string SniffContentType(std::string_view head, std::string_view filename);

}  // namespace ferry::compat::http
