#include "shared/uuid.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <string>

using namespace lifeline;

TEST(Uuid, ValidatesCanonicalForm) {
  EXPECT_TRUE(is_uuid("14d7c629-90d3-468e-a1b7-71ed2f9956b3"));
  EXPECT_TRUE(is_uuid("14D7C629-90D3-468E-A1B7-71ED2F9956B3"));
  EXPECT_FALSE(is_uuid("14d7c62990d3468ea1b771ed2f9956b3"));
  EXPECT_FALSE(is_uuid("14d7c629-90d3-468e-a1b7-71ed2f9956b"));
  EXPECT_FALSE(is_uuid("14d7c629-90d3-468e-a1b7-71ed2f9956bz"));
  EXPECT_FALSE(is_uuid("../../etc/passwd"));
  EXPECT_EQ(normalize_uuid("14D7C629-90D3-468E-A1B7-71ED2F9956B3"), "14d7c629-90d3-468e-a1b7-71ed2f9956b3");
  auto bytes = uuid_bytes("14D7C629-90D3-468E-A1B7-71ED2F9956B3");
  ASSERT_TRUE(bytes);
  EXPECT_EQ((*bytes)[0], 0x14);
  EXPECT_EQ((*bytes)[15], 0xb3);
  EXPECT_EQ(format_uuid(*bytes), "14d7c629-90d3-468e-a1b7-71ed2f9956b3");
  EXPECT_FALSE(uuid_bytes("14d7c62990d3468ea1b771ed2f9956b3"));  // not the canonical form
}

TEST(Uuid, EveryByteValueRoundTripsAndNeighboursOfTheDigitsAreRejected) {
  for (int v = 0; v < 256; ++v) {
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < 16; ++i) b[i] = static_cast<std::uint8_t>(v + static_cast<int>(i));
    auto text = format_uuid(b);
    ASSERT_TRUE(is_uuid(text)) << text;
    EXPECT_EQ(uuid_bytes(text), b) << text;
  }
  const std::string good = "14d7c629-90d3-468e-a1b7-71ed2f9956b3";
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (char c : {'/', ':', '@', 'G', '`', 'g', '-', '\0', '\xff'}) {
      std::string t = good;
      if (t[at] == c) continue;
      t[at] = c;
      EXPECT_FALSE(is_uuid(t)) << "position " << at << " character " << static_cast<int>(c);
    }
  }
  EXPECT_EQ(normalize_uuid("not-a-uuid"), "not-a-uuid");
}

TEST(Uuid, V4IsRandomAndVersioned) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto u = uuid_v4();
    ASSERT_TRUE(is_uuid(u));
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Uuid, V5MatchesKnownVector) {
  // RFC 4122 DNS namespace, name "python.org" (the value Python's uuid.uuid5 gives).
  EXPECT_EQ(uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  EXPECT_EQ(uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "a"),
            uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "a"));
  EXPECT_NE(uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "a"),
            uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "b"));
}
