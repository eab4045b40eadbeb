#include "compat-api/http/rate_limit.hpp"

#include <cmath>
#include <cstdio>

#include "compat-api/http/errors.hpp"

namespace ferry::compat::http {
namespace {

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

Response TooManyRequests(double retry_after_s, bool global, const std::string& scope) {
  Response r = Response::Json(::ferry::Json{{"message", "You are being rate limited."},
                                            {"retry_after", std::round(retry_after_s * 1000.0) / 1000.0},
                                            {"global", global},
                                            {"code", 0}},
                              429);
  r.AddHeader("Retry-After", std::to_string(static_cast<long long>(std::ceil(retry_after_s))));
  r.AddHeader("X-RateLimit-Scope", scope);
  r.AddHeader("Via", "1.1 google");
  if (global) r.AddHeader("X-RateLimit-Global", "true");
  return r;
}

}  // namespace

RateLimiter::RateLimiter(bool enabled, int global_per_second)
    : enabled_(enabled), global_per_second_(global_per_second) {}

BucketLimit RateLimiter::LimitFor(std::string_view bucket) {
  // Close to what Discord announces for these routes, a little looser where bots burst (message sends).
  struct Entry {
    std::string_view name;
    BucketLimit limit;
  };
  static const Entry table[] = {
      {"channel_messages_post", {10, 5000}},     {"channel_messages_patch", {10, 5000}},
      {"channel_messages_delete", {10, 1000}},   {"channel_messages_bulk_delete", {2, 1000}},
      {"channel_reactions", {4, 1000}},          {"channel_reactions_put", {4, 1000}},
      {"channel_typing", {5, 5000}},             {"channel_pins", {5, 5000}},
      {"channel_threads", {10, 5000}},           {"channel_patch", {5, 10000}},
      {"users_me_channels", {10, 10000}},        {"gateway_bot", {2, 5000}},
  };
  for (const auto& e : table)
    if (e.name == bucket) return e.limit;
  return {50, 1000};
}

std::string RateLimiter::BucketHash(std::string_view bucket) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bucket) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

RateLimiter::Decision RateLimiter::Take(std::string_view bucket, std::string_view major, std::string_view caller,
                                        std::int64_t now_ms) {
  Decision d;
  if (!enabled_ || bucket.empty()) return d;

  if (global_per_second_ > 0) {
    Window& g = global_[std::string(caller)];
    if (g.window_ms == 0 || now_ms >= g.start_ms + g.window_ms) g = Window{now_ms, 1000, 0};
    if (g.used >= global_per_second_) {
      d.allowed = false;
      d.rejection = TooManyRequests((g.start_ms + g.window_ms - now_ms) / 1000.0, true, "global");
      return d;
    }
    ++g.used;
  }

  BucketLimit lim = LimitFor(bucket);
  std::string key;
  key.reserve(bucket.size() + major.size() + caller.size() + 2);
  key.append(bucket).append(1, '\x1f').append(major).append(1, '\x1f').append(caller);
  Window& w = windows_[key];
  if (w.window_ms == 0 || now_ms >= w.start_ms + w.window_ms) w = Window{now_ms, lim.window_ms, 0};
  double reset_after = (w.start_ms + w.window_ms - now_ms) / 1000.0;
  double reset_at = (w.start_ms + w.window_ms) / 1000.0;
  std::string hash = BucketHash(bucket);
  auto fill = [&](std::vector<std::pair<std::string, std::string>>& h, int remaining) {
    h.emplace_back("X-RateLimit-Limit", std::to_string(lim.limit));
    h.emplace_back("X-RateLimit-Remaining", std::to_string(remaining));
    h.emplace_back("X-RateLimit-Reset", Seconds(reset_at));
    h.emplace_back("X-RateLimit-Reset-After", Seconds(reset_after));
    h.emplace_back("X-RateLimit-Bucket", hash);
  };
  if (w.used >= lim.limit) {
    d.allowed = false;
    d.rejection = TooManyRequests(reset_after, false, "user");
    fill(d.rejection.headers, 0);
    if (global_per_second_ > 0) {
      auto it = global_.find(std::string(caller));
      if (it != global_.end() && it->second.used > 0) --it->second.used;  // a refused request costs nothing
    }
    return d;
  }
  ++w.used;
  fill(d.headers, lim.limit - w.used);
  return d;
}

void RateLimiter::Sweep(std::int64_t now_ms) {
  for (auto* m : {&windows_, &global_}) {
    for (auto it = m->begin(); it != m->end();) {
      if (now_ms >= it->second.start_ms + it->second.window_ms) it = m->erase(it);
      else ++it;
    }
  }
}

}  // namespace ferry::compat::http
