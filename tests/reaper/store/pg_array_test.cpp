#include "reaper/store/pg_array.hpp"

#include <gtest/gtest.h>

namespace lifeline::reaper::store {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(PgArrayBuilder, EncodesHeaderAndElements) {
  PgArrayBuilder a(oid::int4);
  a.add_int4(1);
  a.add_int4(-1);
  std::string out = a.finish();
  std::string expected = bytes({0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 2, 0, 0, 0, 1,  // header
                                0, 0, 0, 4, 0, 0, 0, 1,                                      // 1
                                0, 0, 0, 4, -1, -1, -1, -1});                                // -1
  EXPECT_EQ(out, expected);
}

TEST(PgArrayBuilder, UuidAndText) {
  PgArrayBuilder u(oid::uuid);
  u.add_uuid("01020304-0506-0708-090A-0b0c0d0e0f10");
  u.add_uuid("0102030405060708090a0b0c0d0e0f10");  // not canonical: the nil UUID
  std::string out = u.finish();
  ASSERT_EQ(out.size(), 20u + 2 * (4 + 16));
  EXPECT_EQ(out.substr(24, 16), bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}));
  EXPECT_EQ(out.substr(44, 16), std::string(16, '\0'));
  PgArrayBuilder t(oid::text);
  t.add_text("a\"b");
  EXPECT_EQ(t.finish().substr(20), bytes({0, 0, 0, 3, 'a', '"', 'b'}));
}

TEST(PgArrayBuilder, Int8IsBigEndian) {
  PgArrayBuilder a(oid::int8);
  a.add_int8(0x0102030405060708LL);
  EXPECT_EQ(a.finish().substr(20), bytes({0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}));
}

}  // namespace
}  // namespace lifeline::reaper::store
