#include "store/snowflake.hpp"

#include <chrono>

namespace ferry {

std::optional<std::uint64_t> ParseSnowflake(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

SnowflakeGenerator::SnowflakeGenerator(unsigned worker, unsigned process)
    : worker_bits_((static_cast<std::uint64_t>(worker & 31) << 17) | (static_cast<std::uint64_t>(process & 31) << 12)) {}

void SnowflakeGenerator::SetFloor(std::uint64_t floor) {
  std::lock_guard<std::mutex> lock(mu_);
  if (floor > last_) last_ = floor;
}

std::uint64_t SnowflakeGenerator::Next() {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
  return NextAt(now);
}

std::uint64_t SnowflakeGenerator::NextAt(std::int64_t unix_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t candidate = SnowflakeFromTimeMs(unix_ms) | worker_bits_;
  if (candidate <= last_) {
    // Same millisecond (or the clock went back, or the floor is ahead): take the next increment, which may
    // carry into the timestamp bits; ids stay unique and increasing.
    candidate = last_ + 1;
  }
  last_ = candidate;
  return candidate;
}

}  // namespace ferry
