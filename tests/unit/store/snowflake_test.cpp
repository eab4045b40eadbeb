#include "store/snowflake.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ferry {
namespace {

TEST(Snowflake, DecodesTimeOfRealIds) {
  // 1246433064247361543 is 2024-06-01T12:00:00.123Z in the DCE fixture of the format notes.
  EXPECT_EQ(SnowflakeTimeMs(1246433064247361543ULL), 1717243200123);
  EXPECT_EQ(SnowflakeFromTimeMs(1717243200123) >> 22, 1246433064247361543ULL >> 22);
}

TEST(Snowflake, ParsesDecimalStringsExactlyAbove2To53) {
  EXPECT_EQ(ParseSnowflake("1017588758238990388"), 1017588758238990388ULL);
  EXPECT_EQ(ParseSnowflake("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseSnowflake("18446744073709551616"));
  EXPECT_FALSE(ParseSnowflake("99999999999999999999"));
  EXPECT_EQ(ParseSnowflake("9999999999999999999"), 9999999999999999999ULL);  // 19 digits: never overflows
  EXPECT_EQ(ParseSnowflake("00000000000000000001"), 1u);
  EXPECT_FALSE(ParseSnowflake("1844674407370955161x"));
  EXPECT_FALSE(ParseSnowflake("184467440737095516150"));
  EXPECT_FALSE(ParseSnowflake("1 2"));
  EXPECT_FALSE(ParseSnowflake(""));
  EXPECT_FALSE(ParseSnowflake("12a"));
  EXPECT_FALSE(ParseSnowflake("-1"));
}

TEST(Snowflake, GeneratorIsUniqueIncreasingAndAboveFloor) {
  SnowflakeGenerator gen(3, 1);
  const std::uint64_t floor = SnowflakeFromTimeMs(4102444800000);  // year 2100: ahead of the clock
  gen.SetFloor(floor);
  std::set<std::uint64_t> seen;
  std::uint64_t last = 0;
  for (int i = 0; i < 10000; ++i) {
    std::uint64_t id = gen.Next();
    EXPECT_GT(id, floor);
    EXPECT_GT(id, last);
    last = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(Snowflake, GeneratorEncodesTheCreationTime) {
  SnowflakeGenerator gen;
  std::uint64_t id = gen.NextAt(1717243200123);
  EXPECT_EQ(SnowflakeTimeMs(id), 1717243200123);
  // Many ids in the same millisecond stay unique.
  std::uint64_t next = gen.NextAt(1717243200123);
  EXPECT_GT(next, id);
}

}  // namespace
}  // namespace ferry
