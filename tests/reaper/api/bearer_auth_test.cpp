#include "reaper/api/bearer_auth.hpp"

#include <gtest/gtest.h>

namespace lifeline::reaper::api {
namespace {

TEST(BearerAuth, DisabledAllowsEverything) {
  BearerAuth a("");
  EXPECT_FALSE(a.enabled());
  EXPECT_TRUE(a.allows(""));
  EXPECT_TRUE(a.allows("Bearer whatever"));
}

TEST(BearerAuth, ChecksTheToken) {
  BearerAuth a("s3cret");
  EXPECT_TRUE(a.allows("Bearer s3cret"));
  EXPECT_TRUE(a.allows("bearer s3cret"));
  EXPECT_FALSE(a.allows(""));
  EXPECT_FALSE(a.allows("Bearer"));
  EXPECT_FALSE(a.allows("Bearer s3cre"));
  EXPECT_FALSE(a.allows("Bearer s3cret2"));
  EXPECT_FALSE(a.allows("Basic s3cret"));
  EXPECT_FALSE(a.allows("s3cret"));
}

}  // namespace
}  // namespace lifeline::reaper::api
