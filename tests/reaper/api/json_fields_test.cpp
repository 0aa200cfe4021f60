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

TEST(ReadTopLevel, DecodesEscapes) {
  std::vector<JsonField> f;
  ASSERT_EQ(read_top_level(R"({"a":"x\u00e9\n\"y"})", {"a"}, f), JsonShape::object);
  EXPECT_EQ(f[0].string, "x\xc3\xa9\n\"y");
}

}  // namespace
}  // namespace lifeline::reaper::api
