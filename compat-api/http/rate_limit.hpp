// Per-route rate limits shaped like Discord's, so discord.py's and discord.js's own limiters behave.
//
// A bucket instance is (route bucket, major parameter, caller): each channel/guild/webhook has its own window.
// Windows are fixed: `limit` requests per `window_ms`, starting at the first request. Every answer of a
// limited route carries all of X-RateLimit-Limit (int), -Remaining (int), -Reset (epoch seconds, float),
// -Reset-After (seconds, float) and -Bucket (opaque hash of the route bucket): discord.py reads Reset-After
// whenever Remaining is present. Over the limit: 429 with Retry-After (whole seconds, rounded up),
// X-RateLimit-Scope, Via: 1.1 google (discord.py treats a 429 without Via as a Cloudflare ban) and the body
// {"message": "You are being rate limited.", "retry_after": <float s>, "global": false, "code": 0}.
// A global limit per caller (requests per second over all routes) answers 429 with X-RateLimit-Global: true.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "compat-api/http/router.hpp"

namespace ferry::compat::http {

struct BucketLimit {
  int limit = 50;
  std::int64_t window_ms = 1000;
};

class RateLimiter {
 public:
  // enabled=false: nothing is limited and no headers are sent (benchmarks).
  explicit RateLimiter(bool enabled = true, int global_per_second = 50);

  // The limit of a route bucket (a table of Discord-like values; unknown buckets get 50 per second).
  static BucketLimit LimitFor(std::string_view bucket);
  // The opaque X-RateLimit-Bucket value of a route bucket.
  static std::string BucketHash(std::string_view bucket);

  struct Decision {
    bool allowed = true;
    Response rejection;  // the 429 when !allowed
    std::vector<std::pair<std::string, std::string>> headers;  // add to the response when allowed
  };
  // Takes one request from (bucket, major, caller) at `now_ms`.
  Decision Take(std::string_view bucket, std::string_view major, std::string_view caller, std::int64_t now_ms);

  // Drops windows that ended before `now_ms` so memory stays bounded by recent callers.
  void Sweep(std::int64_t now_ms);
  std::size_t size() const { return windows_.size(); }
  bool enabled() const { return enabled_; }

 private:
  struct Window {
    std::int64_t start_ms = 0;
    std::int64_t window_ms = 0;
    int used = 0;
  };
  bool enabled_;
  int global_per_second_;
  std::unordered_map<std::string, Window> windows_;
  std::unordered_map<std::string, Window> global_;
};

}  // namespace ferry::compat::http
