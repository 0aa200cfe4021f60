// Timestamps and ids as Prefect writes and reads them.
#include <gtest/gtest.h>

#include "tests/fakes/time_text.hpp"
#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {
namespace {

TEST(TimeText, RoundTripsPrefectsFormat) {
  auto t = parse_time("2026-11-23T14:21:13.709274Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_time(*t), "2026-11-23T14:21:13.709274Z");
  EXPECT_EQ(format_time(*parse_time("2026-11-23T14:21:43.655144+00:00")), "2026-11-23T14:21:43.655144Z");
  EXPECT_EQ(format_time(*parse_time("2026-11-23T16:21:43+02:00")), "2026-11-23T14:21:43Z");
  EXPECT_EQ(format_time(*parse_time("2026-11-23 14:21:43.5")), "2026-11-23T14:21:43.500000Z");
  EXPECT_FALSE(parse_time("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_time("yesterday"));
  EXPECT_FALSE(parse_time("2026-11-23T14:21:43Zjunk"));
}

TEST(UuidText, GeneratesVersion4AndAcceptsPydanticForms) {
  UuidGenerator gen(7);
  std::string id = gen.next();
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
  EXPECT_TRUE(is_uuid(id));
  EXPECT_NE(gen.next(), id);
  EXPECT_EQ(canonical_uuid("3B6476430F604A8788D1D2AA8F41EE2A"), "3b647643-0f60-4a87-88d1-d2aa8f41ee2a");
  EXPECT_FALSE(is_uuid("3b647643-0f60-4a87-88d1-d2aa8f41ee2"));
  EXPECT_FALSE(is_uuid("zb647643-0f60-4a87-88d1-d2aa8f41ee2a"));
}

}  // namespace
}  // namespace lifeline::fake_prefect
