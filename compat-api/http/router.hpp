// Routing of the Discord HTTP API: Request, Response, and static route registration.
//
// A REST resource file registers its routes at static-initialisation time (object libraries keep such files
// linked), e.g. in compat-api/rest/channels/messages.cpp:
//
//   static ferry::compat::http::RouteRegistrar post_message{
//       "POST", "/channels/{channel_id}/messages", "channel_messages_post",
//       [](ServerContext& ctx, Request& req) -> Response { ... }};
//
// Patterns are written WITHOUT the /api[/v9|/v10] prefix (the server strips it; all three prefixes serve the
// same routes). `{name}` matches one non-empty path segment; its value is percent-decoded into req.params
// (so a reaction emoji arrives as UTF-8). Literal segments win over `{param}` segments at the same depth
// (so "/users/@me" beats "/users/{user_id}", "/channels/{id}/messages/pins" beats ".../{message_id}").
//
// The pipeline for an /api request (compat-api/http/api.hpp): match route (no match → 404 {"message":
// "404: Not Found","code":0}; path matches but not the method → 405) → auth (Auth::kBot: `Authorization:
// Bot <token>` or a bare token, sha256 → Store::FindBotByTokenHash, else 401) → rate limit by (bucket, major
// parameter, bot) with X-RateLimit-* headers, 429 when exhausted → handler → ApiError/exception → JSON.
//
// Interactions and webhooks slot in as routes with Auth::kNone: the handler authorises by the token in the
// path (e.g. "/webhooks/{webhook_id}/{webhook_token}"), and the rate-limit key then uses that path token.
//
// Major parameters (Discord's): channel_id, guild_id, webhook_id(+webhook_token); they give each channel/guild
// its own bucket instance.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compat-api/context.hpp"
#include "store/model.hpp"

namespace ferry::compat::http {

// One part of a multipart/form-data body (POST /channels/{id}/messages with files).
struct MultipartPart {
  std::string name;          // form field: "payload_json", "files[0]", "content", ...
  std::string filename;      // from Content-Disposition filename= (UTF-8, filename* honoured); empty if none
  std::string content_type;  // the part's Content-Type as sent; empty if absent
  std::string data;          // the bytes
};

struct Request {
  std::string method;   // "GET", "POST", ... (upper case)
  std::string path;     // raw path after the /api[/vN] prefix, without query: "/channels/123/messages"
  int api_version = 10; // 9 or 10 from the prefix; 10 for the bare /api prefix
  std::vector<std::pair<std::string, std::string>> params;   // path params by name (percent-decoded)
  std::vector<std::pair<std::string, std::string>> query;    // query params in order (decoded, '+' = space)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;                                          // raw body (empty for multipart: see parts)
  std::vector<MultipartPart> parts;                          // parsed multipart/form-data parts
  std::string remote;                                        // peer address, for logs

  // Set by auth for Auth::kBot routes: the bot and its user.
  bool authenticated = false;
  Bot bot;
  User user;

  // Path param by name; empty if the route has none of that name.
  const std::string& Param(std::string_view name) const;
  // Path param as a snowflake; throws ApiError 50035 {name: NUMBER_TYPE_COERCE "Value "x" is not snowflake."}
  // when it is not one.
  Snowflake SnowflakeParam(std::string_view name) const;
  // First query value of that name.
  std::optional<std::string> Query(std::string_view name) const;
  // Header value (name case-insensitive); empty if absent.
  std::string_view Header(std::string_view name) const;
  // X-Audit-Log-Reason, percent-decoded (discord.py leaves spaces literal, discord.js encodes them).
  std::string AuditLogReason() const;
  // The JSON body: the body itself for application/json, the payload_json part for multipart (an empty object
  // when neither is present). Throws ApiError 50109 for malformed JSON. Parsed once and cached.
  const Json& JsonBody();
  // A multipart part by field name, or nullptr.
  const MultipartPart* Part(std::string_view name) const;

 private:
  std::optional<Json> json_;
};

struct Response {
  int status = 200;
  std::string body;                                          // serialised body; empty for 204
  std::string content_type = "application/json";             // exactly this for JSON (discord.py compares ==)
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (X-RateLimit-*, Retry-After, ...)
  std::string file_path;                                     // when set, the body is this file's bytes (CDN)

  static Response Json(const ::ferry::Json& j, int status = 200);
  static Response NoContent();  // 204, no body, no Content-Type
  Response& AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using Handler = std::function<Response(ServerContext& ctx, Request& req)>;

enum class Auth {
  kBot,   // Authorization: Bot <token> required; req.bot / req.user filled
  kNone,  // no Authorization (interaction callbacks, webhook-token routes, /gateway); handler checks tokens
};

struct Route {
  std::string method;
  std::string pattern;  // "/channels/{channel_id}/messages"
  std::string bucket;   // rate-limit bucket name (e.g. "channel_messages_post"); "" = not rate limited
  Handler handler;
  Auth auth = Auth::kBot;
  std::vector<std::string> segments;  // pattern split on '/', filled by the router
};

struct RouteRegistrar {
  RouteRegistrar(std::string method, std::string pattern, std::string bucket, Handler handler,
                 Auth auth = Auth::kBot);
};

class Router {
 public:
  // Every route registered with RouteRegistrar.
  static Router& Global();

  void Add(Route route);

  struct Match {
    const Route* route = nullptr;  // nullptr: no route for this method
    bool path_exists = false;      // some route matches the path with another method (→ 405)
    std::vector<std::pair<std::string, std::string>> params;
  };
  // `path` is the raw path after the API prefix (no query).
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Splits a request target into the API path and version: "/api/v10/users/@me?x=1" → {"/users/@me", 10}.
// Accepts /api, /api/v9, /api/v10 (and /api/v6..v8, served as 10); nullopt for anything else.
struct ApiTarget {
  std::string path;
  std::string query;  // raw query string without '?'
  int version = 10;
};
std::optional<ApiTarget> SplitApiTarget(std::string_view target);

// Percent-decoding ('+' → space when form is true). Invalid escapes are kept literally.
std::string PercentDecode(std::string_view s, bool form = false);

// The non-empty segments of a URL path ("/a//b/" → {"a", "b"}); views into `path`.
std::vector<std::string_view> SplitPath(std::string_view path);
// Parses "a=1&b=2" into decoded pairs.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace ferry::compat::http
