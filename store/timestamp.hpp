// Parsing and formatting of the timestamp text forms Discord data comes in:
//   DCE JSON      2024-06-01T12:00:00.123+00:00, 2024-06-01T14:00:00+02:00, up to 7 fraction digits
//   DCE CSV       2024-06-01T12:00:00.1230000+00:00
//   API           2021-02-01T14:37:12.362000+00:00, also ...Z
//   package A/B   2020-08-25 22:54:05.726000+00:00, 2020-08-25 22:54:05+00:00
//   package C-E   2022-09-09 00:14:25 (UTC, no zone)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

// UTC milliseconds since the Unix epoch, or nullopt if `text` is none of the forms above.
// Sub-millisecond digits are truncated. A missing zone means UTC.
std::optional<std::int64_t> ParseTimestampMs(std::string_view text);

// Discord API form with microseconds: "2024-06-01T12:00:00.123000+00:00".
std::string FormatApiTimestamp(std::int64_t ms);

// DCE form with trimmed fraction: "2024-06-01T12:00:00.123+00:00", "2024-06-01T12:01:30+00:00".
std::string FormatDceTimestamp(std::int64_t ms);

std::int64_t NowMs();

}  // namespace ferry
