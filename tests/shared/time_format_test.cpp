#include "shared/time_format.hpp"

#include <gtest/gtest.h>

using namespace lifeline;
using namespace std::chrono;

TEST(TimeFormat, FormatsAndParsesPrefectTimestamps) {
  auto t = parse_rfc3339("2026-11-23T14:21:15.523572Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_rfc3339(*t), "2026-11-23T14:21:15.523572Z");
  EXPECT_EQ(format_rfc3339(*t, true), "2026-11-23T14:21:15Z");
  auto offset = parse_rfc3339("2026-11-23T14:21:43.655144+00:00");
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(format_rfc3339(*offset), "2026-11-23T14:21:43.655144Z");
  auto shifted = parse_rfc3339("2026-11-23T16:21:43+02:00");
  ASSERT_TRUE(shifted.has_value());
  EXPECT_EQ(format_rfc3339(*shifted, true), "2026-11-23T14:21:43Z");
}

TEST(TimeFormat, RejectsMalformed) {
  for (const char* bad : {"", "2026-11-23", "2026-11-23T14:21:15", "2026-13-23T14:21:15Z", "2026-11-23T14:21:15.Z",
                          "2026-11-23T14:21:15Zjunk", "4052-11-23T14:21:15Z", "1013-01-01T00:00:00Z"})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
}
