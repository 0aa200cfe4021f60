#include "reaper/api/json_fields.hpp"

#include <gtest/gtest.h>

namespace lifeline::reaper::api {
namespace {

using Kind = JsonField::Kind;

TEST(ReadTopLevel, KeepsOnlyTheNamedMembersOfTheTopLevelObject) {
  std::vector<JsonField> f;
  auto shape = read_top_level(
      R"({"s":"text","neg":-7,"pos":18446744073709551615,"x":1.5,"t":true,"n":null,)"
      R"("nested":{"s":"inner","neg":1},"arr":[{"s":"in array"}],"ignored":"z"})",
      {"s", "neg", "pos", "x", "t", "n", "nested", "arr", "missing"}, f);
  ASSERT_EQ(shape, JsonShape::object);
  ASSERT_EQ(f.size(), 9u);
  EXPECT_EQ(f[0].kind, Kind::string);
  EXPECT_EQ(f[0].string, "text");  // not the nested object's "s"
  EXPECT_EQ(f[1].kind, Kind::integer);
  EXPECT_EQ(f[1].integer, -7);     // not the nested object's "neg"
  EXPECT_EQ(f[2].kind, Kind::unsigned_integer);
  EXPECT_EQ(f[2].unsigned_value, 18446744073709551615ull);
  EXPECT_EQ(f[3].kind, Kind::floating);
  EXPECT_DOUBLE_EQ(f[3].as_double(), 1.5);
  EXPECT_EQ(f[4].kind, Kind::boolean);
  EXPECT_TRUE(f[4].boolean);
  EXPECT_EQ(f[5].kind, Kind::null);
  EXPECT_FALSE(f[5].present());
  EXPECT_EQ(f[6].kind, Kind::other);
  EXPECT_EQ(f[7].kind, Kind::other);
  EXPECT_EQ(f[8].kind, Kind::absent);
  EXPECT_TRUE(f[2].is_integer());
  EXPECT_TRUE(f[3].is_number());
  EXPECT_FALSE(f[3].is_integer());
}

TEST(ReadTopLevel, TheLastOfDuplicateMembersCounts) {
  std::vector<JsonField> f;
  ASSERT_EQ(read_top_level(R"({"a":"first","a":2})", {"a"}, f), JsonShape::object);
  EXPECT_EQ(f[0].kind, Kind::unsigned_integer);
  EXPECT_EQ(f[0].unsigned_value, 2u);
  EXPECT_TRUE(f[0].string.empty());
}

TEST(ReadTopLevel, TellsInvalidJsonFromOtherValues) {
  std::vector<JsonField> f;
  for (const char* bad : {"", "{", R"({"a":})", R"({"a":1} x)", R"({"a":1e999})", "{\"a\":\"\xff\"}", "nul",
                          R"({'a':1})", "[1,"})
    EXPECT_EQ(read_top_level(bad, {"a"}, f), JsonShape::not_json) << bad;
  for (const char* other : {"[]", "[{\"a\":1}]", "1", "\"a\"", "null", "true"})
    EXPECT_EQ(read_top_level(other, {"a"}, f), JsonShape::not_object) << other;
  EXPECT_EQ(read_top_level("  {}  ", {"a"}, f), JsonShape::object);
  EXPECT_EQ(f[0].kind, Kind::absent);
}

TEST(JsonFieldAsInt64, CoversTheInt64RangeAndNothingElse) {
  std::vector<JsonField> f;
  ASSERT_EQ(read_top_level(R"({"min":-9223372036854775808,"max":9223372036854775807,)"
                           R"("over":9223372036854775808,"zero":0,"x":1.0,"s":"1","n":null})",
                           {"min", "max", "over", "zero", "x", "s", "n", "missing"}, f),
            JsonShape::object);
  EXPECT_EQ(f[0].as_int64(), INT64_MIN);
  EXPECT_EQ(f[1].as_int64(), INT64_MAX);
  EXPECT_EQ(f[2].as_int64(), std::nullopt);  // unsigned, one above INT64_MAX
  EXPECT_EQ(f[3].as_int64(), 0);
  for (std::size_t i = 4; i < f.size(); ++i) EXPECT_EQ(f[i].as_int64(), std::nullopt) << i;
}

TEST(ReadTopLevel, DecodesEscapes) {
  std::vector<JsonField> f;
  ASSERT_EQ(read_top_level(R"({"a":"x\u00e9\n\"y"})", {"a"}, f), JsonShape::object);
  EXPECT_EQ(f[0].string, "x\xc3\xa9\n\"y");
}

// The fast scan of flat bodies and nlohmann's parser read every body alike: bodies the
// scan takes, bodies it must hand over (escapes, signs, fractions, nesting, bad syntax),
// and every one-byte truncation and one-byte change of a sidecar's heartbeat.
TEST(ReadTopLevel, FastScanAndFullParserAgree) {
  const std::initializer_list<std::string_view> names = {"holder", "node", "ttl_seconds", "seq", "phase"};
  const std::string heartbeat =
      R"({"holder":"flow-pod-7f9c","node":"node-a","ttl_seconds":15,"seq":42,"phase":"running"})";
  std::vector<std::string> bodies = {
      heartbeat, "{}", " { } ", R"({"seq":0})", R"({"seq":00})", R"({"seq":-0})", R"({"seq":-3})",
      R"({"seq":1.0})", R"({"seq":1e3})", R"({"seq":123456789012345678})", R"({"seq":1234567890123456789})",
      R"({"seq":18446744073709551616})", R"({"holder":"a\"b"})", R"({"holder":"\u0041"})",
      "{\"holder\":\"caf\xc3\xa9\"}", "{\"holder\":\"\x7f\"}", "{\"holder\":\"a\tb\"}", R"({"holder":nul})",
      R"({"holder":nullx})", R"({"holder":true,"node":false,"phase":null})", R"({"holder":"a",})",
      R"({"holder":"a" "node":"b"})", R"({"holder":{"x":1}})", R"({"holder":[1,2]})", R"({"holder":"a","holder":"b"})",
      "{\"seq\":1}\n", "{\"seq\":1}x", R"({"seq":1}{})", "\t{\r\n\"seq\" : 7 ,\"node\":\"n\"}"};
  for (std::size_t i = 0; i < heartbeat.size(); ++i) {
    bodies.push_back(heartbeat.substr(0, i));
    for (char c : {'"', ',', '}', '{', '\\', '0', '-', 'x', ' ', '\x01', '\x80'}) {
      std::string b = heartbeat;
      b[i] = c;
      bodies.push_back(b);
    }
  }
  int scanned = 0;
  for (const auto& b : bodies) {
    std::vector<JsonField> fast, full;
    const auto fast_shape = read_top_level(b, names, fast);
    const auto full_shape = read_top_level_full(b, names, full);
    ASSERT_EQ(fast_shape, full_shape) << b;
    if (fast_shape == JsonShape::object) {
      EXPECT_EQ(fast, full) << b;
      ++scanned;
    }
  }
  EXPECT_GT(scanned, 20);  // the comparison covered accepted bodies, not only rejections
  std::vector<JsonField> f;
  ASSERT_EQ(read_top_level(heartbeat, names, f), JsonShape::object);
  EXPECT_EQ(f[0].string, "flow-pod-7f9c");
  EXPECT_EQ(f[2].unsigned_value, 15u);
  EXPECT_EQ(f[3].unsigned_value, 42u);
}

}  // namespace
}  // namespace lifeline::reaper::api
