#include "shared/duration.hpp"

#include <gtest/gtest.h>

using lifeline::Duration;
using lifeline::format_duration;
using lifeline::parse_duration;

TEST(Duration, ParsesGoStyleStrings) {
  EXPECT_EQ(parse_duration("250ms").value(), Duration(250));
  EXPECT_EQ(parse_duration("5s").value(), Duration(5000));
  EXPECT_EQ(parse_duration("2m").value(), Duration(120'000));
  EXPECT_EQ(parse_duration("1m30s").value(), Duration(90'000));
  EXPECT_EQ(parse_duration("1h").value(), Duration(3'600'000));
  EXPECT_EQ(parse_duration("1.5s").value(), Duration(1500));
  EXPECT_EQ(parse_duration("0s").value(), Duration(0));
  EXPECT_EQ(parse_duration("1h2m3s4ms").value(), Duration(3'723'004));
}

TEST(Duration, RejectsBareNumbersSignsAndUnknownUnits) {
  for (const char* bad : {"", "5", "-5s", "+5s", "5x", "5us", "s", "1.s5", "1.0001s", "5 s", "ms"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_duration");
    EXPECT_NE(r.error().message.find("invalid duration"), std::string::npos);
  }
  EXPECT_NE(parse_duration("5").error().message.find("missing unit"), std::string::npos);
  EXPECT_NE(parse_duration("-5s").error().message.find("negative"), std::string::npos);
}

TEST(Duration, FormatsShortestForm) {
  EXPECT_EQ(format_duration(Duration(0)), "0s");
  EXPECT_EQ(format_duration(Duration(250)), "250ms");
  EXPECT_EQ(format_duration(Duration(5000)), "5s");
  EXPECT_EQ(format_duration(Duration(90'000)), "1m30s");
  EXPECT_EQ(format_duration(Duration(1500)), "1.5s");
  EXPECT_EQ(format_duration(Duration(3'600'000)), "1h0m0s");
}

TEST(Duration, FormatRoundTrips) {
  for (long ms : {1L, 999L, 1000L, 1001L, 59'999L, 60'000L, 3'599'999L, 86'400'000L}) {
    auto text = format_duration(Duration(ms));
    EXPECT_EQ(parse_duration(text).value(), Duration(ms)) << text;
  }
}
