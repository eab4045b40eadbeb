#include "store/snowflake.hpp"

#include <chrono>

namespace ferry {

std::optional<std::uint64_t> ParseSnowflake(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  // Up to 19 digits cannot pass 2^64 (1.8e19): only a 20-digit string needs the overflow check. An import
  // parses about ten ids per message, so this loop is worth keeping short.
  const std::size_t unchecked = s.size() < 20 ? s.size() : 19;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < unchecked; ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return std::nullopt;
    v = v * 10 + d;
  }
  if (s.size() == 20) {
    unsigned d = static_cast<unsigned char>(s[19]) - '0';
    if (d > 9 || v > (UINT64_MAX - d) / 10) return std::nullopt;
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
