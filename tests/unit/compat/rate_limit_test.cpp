// Rate-limit buckets: per (bucket, major parameter, caller) windows, headers, 429 shape.
#include <gtest/gtest.h>

#include "compat-api/http/rate_limit.hpp"

namespace ferry::compat::http {
namespace {

std::string HeaderOf(const std::vector<std::pair<std::string, std::string>>& h, const std::string& name) {
  for (const auto& [k, v] : h)
    if (k == name) return v;
  return "";
}

TEST(RateLimiter, CountsDownThenRefusesWithDiscordShape) {
  RateLimiter rl(true, 0);
  BucketLimit lim = RateLimiter::LimitFor("channel_messages_post");
  std::int64_t now = 1'700'000'000'000;
  for (int i = 0; i < lim.limit; ++i) {
    auto d = rl.Take("channel_messages_post", "111", "bot", now);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(HeaderOf(d.headers, "X-RateLimit-Remaining"), std::to_string(lim.limit - i - 1));
    EXPECT_EQ(HeaderOf(d.headers, "X-RateLimit-Limit"), std::to_string(lim.limit));
    EXPECT_FALSE(HeaderOf(d.headers, "X-RateLimit-Reset-After").empty());
    EXPECT_FALSE(HeaderOf(d.headers, "X-RateLimit-Reset").empty());
    EXPECT_EQ(HeaderOf(d.headers, "X-RateLimit-Bucket"), RateLimiter::BucketHash("channel_messages_post"));
  }
  auto d = rl.Take("channel_messages_post", "111", "bot", now + 10);
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.rejection.status, 429);
  EXPECT_EQ(HeaderOf(d.rejection.headers, "Via"), "1.1 google");
  EXPECT_FALSE(HeaderOf(d.rejection.headers, "Retry-After").empty());
  EXPECT_EQ(HeaderOf(d.rejection.headers, "X-RateLimit-Scope"), "user");
  Json body = Json::parse(d.rejection.body);
  EXPECT_EQ(body["message"], "You are being rate limited.");
  EXPECT_TRUE(body["retry_after"].is_number_float());
  EXPECT_EQ(body["global"], false);
}

TEST(RateLimiter, MajorParameterAndCallerHaveTheirOwnWindows) {
  RateLimiter rl(true, 0);
  BucketLimit lim = RateLimiter::LimitFor("channel_messages_post");
  std::int64_t now = 1000;
  for (int i = 0; i < lim.limit; ++i) rl.Take("channel_messages_post", "1", "a", now);
  EXPECT_FALSE(rl.Take("channel_messages_post", "1", "a", now).allowed);
  EXPECT_TRUE(rl.Take("channel_messages_post", "2", "a", now).allowed);
  EXPECT_TRUE(rl.Take("channel_messages_post", "1", "b", now).allowed);
  // The window ends: allowed again, and Sweep forgets expired windows.
  EXPECT_TRUE(rl.Take("channel_messages_post", "1", "a", now + lim.window_ms).allowed);
  rl.Sweep(now + 10 * lim.window_ms);
  EXPECT_EQ(rl.size(), 0u);
}

TEST(RateLimiter, GlobalLimitSaysGlobal) {
  RateLimiter rl(true, 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Take("x", "", "bot", 0).allowed);
  auto d = rl.Take("y", "", "bot", 1);
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(HeaderOf(d.rejection.headers, "X-RateLimit-Global"), "true");
  EXPECT_EQ(Json::parse(d.rejection.body)["global"], true);
}

TEST(RateLimiter, DisabledSendsNothing) {
  RateLimiter rl(false);
  for (int i = 0; i < 1000; ++i) {
    auto d = rl.Take("channel_messages_post", "1", "a", 0);
    ASSERT_TRUE(d.allowed);
    ASSERT_TRUE(d.headers.empty());
  }
}

}  // namespace
}  // namespace ferry::compat::http
