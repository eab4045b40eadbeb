#include "compat-api/http/api.hpp"

#include <spdlog/spdlog.h>

#include "compat-api/http/auth.hpp"
#include "compat-api/http/errors.hpp"

namespace ferry::compat::http {
namespace {

constexpr std::int64_t kAuthCacheMs = 5000;

// Discord's major parameters: each value gets its own rate-limit bucket instance.
std::string MajorParameter(const Request& req) {
  for (const char* name : {"channel_id", "guild_id", "webhook_id", "interaction_id"}) {
    const std::string& v = req.Param(name);
    if (!v.empty()) {
      if (std::string_view(name) == "webhook_id") return v + "/" + req.Param("webhook_token");
      return v;
    }
  }
  return {};
}

}  // namespace

ApiHandler::ApiHandler(ServerContext& ctx, RateLimiter& limiter, Router& router)
    : ctx_(ctx), limiter_(limiter), router_(router) {}

Response ApiHandler::Handle(Request& req, std::string_view target, std::string* route_out) {
  if (target.substr(0, 4) == "/api" && (target.size() == 4 || target[4] == '/' || target[4] == '?'))
    return HandleApi(req, target, route_out);
  std::string_view path = target.substr(0, target.find('?'));
  if (path.substr(0, 5) == "/cdn/") {
    if (route_out) *route_out = "/cdn";
    if (req.method != "GET" && req.method != "HEAD") return MethodNotAllowed();
    return ServeCdn(ctx_, path);
  }
  if (auto r = ServeWellKnown(ctx_, path)) {
    if (route_out) *route_out = std::string(path);
    return *r;
  }
  return NotFoundRoute();
}

bool ApiHandler::Authenticate(Request& req) {
  std::string_view token = TokenFromAuthorization(req.Header("authorization"));
  if (token.empty() || token.size() > 512) return false;
  std::string hash = TokenHash(token);
  std::int64_t now = ctx_.NowMs();
  auto it = auth_cache_.find(hash);
  if (it == auth_cache_.end() || it->second.expires_ms < now) {
    if (auth_cache_.size() > 10000) auth_cache_.clear();  // bounded: a flood of bad tokens cannot grow it
    CachedBot c;
    c.expires_ms = now + kAuthCacheMs;
    if (ctx_.store.FindBotByTokenHash(hash, &c.bot).ok() && !c.bot.revoked) {
      c.valid = true;
      if (!ctx_.store.GetUser(c.bot.user_id, &c.user).ok()) {
        c.user.id = c.bot.user_id;
        c.user.username = c.bot.name;
      }
      c.user.bot = true;
    }
    it = auth_cache_.insert_or_assign(hash, std::move(c)).first;
  }
  if (!it->second.valid) return false;
  req.authenticated = true;
  req.bot = it->second.bot;
  req.user = it->second.user;
  return true;
}

Response ApiHandler::HandleApi(Request& req, std::string_view target, std::string* route_out) {
  auto t = SplitApiTarget(target);
  if (!t) return NotFoundRoute();
  req.path = t->path;
  req.api_version = t->version;
  req.query = ParseQuery(t->query);
  auto match = router_.Find(req.method == "HEAD" ? std::string_view("GET") : std::string_view(req.method), req.path);
  if (!match.route) return match.path_exists ? MethodNotAllowed() : NotFoundRoute();
  const Route& route = *match.route;
  if (route_out) *route_out = route.pattern;
  req.params = std::move(match.params);

  if (route.auth == Auth::kBot && !Authenticate(req)) return Unauthorized();

  RateLimiter::Decision decision;
  if (!route.bucket.empty()) {
    std::string caller = req.authenticated ? std::to_string(req.bot.user_id) : "anonymous:" + req.remote;
    decision = limiter_.Take(route.bucket, MajorParameter(req), caller, ctx_.NowMs());
    if (!decision.allowed) return decision.rejection;
  }

  Response r;
  // One snapshot and one lock round-trip for the dozen reads of a request (channel, roles, member,
  // overwrites, …); writes inside it commit on their own (Store::BeginRead).
  struct ReadScope {
    Store& store;
    bool open;
    explicit ReadScope(Store& s) : store(s), open(s.BeginRead().ok()) {}
    ~ReadScope() {
      if (open) store.EndRead();
    }
  } read_scope(ctx_.store);
  try {
    r = route.handler(ctx_, req);
  } catch (const ApiError& e) {
    r = e.response();
  } catch (const Json::exception& e) {
    // A body field of the wrong JSON type that a handler read without checking: the client's input is wrong.
    spdlog::debug("{} {}: JSON type error in handler: {}", req.method, req.path, e.what());
    FormErrors fe;
    fe.Add("", "MODEL_TYPE_CONVERT", "Could not interpret the request body.");
    r = fe.ToResponse();
  } catch (const std::exception& e) {
    spdlog::error("{} {}: handler failed: {}", req.method, req.path, e.what());
    r = InternalError();
  }
  for (auto& h : decision.headers) r.headers.push_back(std::move(h));
  return r;
}

}  // namespace ferry::compat::http
