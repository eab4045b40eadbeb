#include "store/timestamp.hpp"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(Timestamp, ParsesEveryFormDiscordDataUses) {
  const std::int64_t base = 1717243200000;  // 2024-06-01T12:00:00Z
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00.123+00:00"), base + 123);
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00+00:00"), base);
  EXPECT_EQ(ParseTimestampMs("2024-06-01T14:00:00.123+02:00"), base + 123);
  EXPECT_EQ(ParseTimestampMs("2024-06-01T07:00:00-05:00"), base);
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00.1230000+00:00"), base + 123);  // DCE CSV, 7 digits
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00.123000+00:00"), base + 123);   // API, 6 digits
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00.5+00:00"), base + 500);        // trimmed fraction
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00.01+00:00"), base + 10);
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00Z"), base);
  EXPECT_EQ(ParseTimestampMs("2024-06-01 12:00:00.123000+00:00"), base + 123);   // package era A/B
  EXPECT_EQ(ParseTimestampMs("2024-06-01 12:00:00+00:00"), base);
  EXPECT_EQ(ParseTimestampMs("2024-06-01 12:00:00"), base);                      // package era C-E (UTC)
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00.9999999+00:00"), base + 999);  // truncates, never rounds up
}

TEST(Timestamp, RejectsWhatIsNotATimestamp) {
  EXPECT_FALSE(ParseTimestampMs(""));
  EXPECT_FALSE(ParseTimestampMs("6/1/2024 12:00 PM"));
  EXPECT_FALSE(ParseTimestampMs("2024-13-01T12:00:00+00:00"));
  EXPECT_FALSE(ParseTimestampMs("2024-06-01T12:00:00+0"));
  EXPECT_FALSE(ParseTimestampMs("2024-06-01T12:00:00.+00:00"));
  EXPECT_FALSE(ParseTimestampMs("2024-06-01T12:00:00+00:00 trailing"));
}

TEST(Timestamp, FormatsRoundTrip) {
  EXPECT_EQ(FormatApiTimestamp(1717243200123), "2024-06-01T12:00:00.123000+00:00");
  EXPECT_EQ(FormatDceTimestamp(1717243200123), "2024-06-01T12:00:00.123+00:00");
  EXPECT_EQ(FormatDceTimestamp(1717243200500), "2024-06-01T12:00:00.5+00:00");
  EXPECT_EQ(FormatDceTimestamp(1717243200000), "2024-06-01T12:00:00+00:00");
  for (std::int64_t ms : {0LL, 1420070400000LL, 1717243200010LL, 4102444799999LL}) {
    EXPECT_EQ(ParseTimestampMs(FormatApiTimestamp(ms)), ms);
    EXPECT_EQ(ParseTimestampMs(FormatDceTimestamp(ms)), ms);
  }
}

}  // namespace
}  // namespace ferry
