// Discord snowflakes: (ms since 2015-01-01 << 22) | worker (5 bits) | process (5 bits) | increment (12 bits).
// Imported ids are kept as given; ids created by Ferry after the move come from a Generator, so they never
// collide with imported ones (they are later in time) and keep sorting by creation time.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

constexpr std::uint64_t kDiscordEpochMs = 1420070400000ULL;

inline std::int64_t SnowflakeTimeMs(std::uint64_t id) {
  return static_cast<std::int64_t>((id >> 22) + kDiscordEpochMs);
}
// The smallest snowflake at `unix_ms` (useful as a paging anchor for a time).
inline std::uint64_t SnowflakeFromTimeMs(std::int64_t unix_ms) {
  if (unix_ms <= static_cast<std::int64_t>(kDiscordEpochMs)) return 0;
  return (static_cast<std::uint64_t>(unix_ms) - kDiscordEpochMs) << 22;
}

// Parses a decimal snowflake ("1246433064247361543"); nullopt for empty, non-digits, or > 2^64-1.
std::optional<std::uint64_t> ParseSnowflake(std::string_view s);

// Thread-safe generator. Ids are strictly increasing within a process and never below `floor`
// (pass the highest id already in the store so new ids sort after everything imported).
class SnowflakeGenerator {
 public:
  explicit SnowflakeGenerator(unsigned worker = 1, unsigned process = 0);
  void SetFloor(std::uint64_t floor);
  std::uint64_t Next();
  std::uint64_t NextAt(std::int64_t unix_ms);  // for tests

 private:
  std::mutex mu_;
  std::uint64_t last_ = 0;
  std::uint64_t worker_bits_;
};

}  // namespace ferry
