// Policy matching (first match wins, overrides fall back to [retry]) and backoff arithmetic.
#include <gtest/gtest.h>

#include "reaper/reap/backoff.hpp"
#include "reaper/reap/policy_matcher.hpp"

namespace lifeline::reaper::reap {
namespace {

using namespace std::chrono_literals;

TEST(GlobMatch, StarAndQuestionMark) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("etl-*", "etl-nightly"));
  EXPECT_TRUE(glob_match("etl-?", "etl-1"));
  EXPECT_FALSE(glob_match("etl-?", "etl-12"));
  EXPECT_TRUE(glob_match("*-gpu-*", "train-gpu-large"));
  EXPECT_FALSE(glob_match("etl-*", "xetl-1"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("exact", "exact"));
}

Config config_with_policies() {
  Config c;
  c.retry.max_attempts = 3;
  c.retry.delay = 10s;
  Policy gpu;
  gpu.work_pool = "gpu";
  gpu.max_attempts = 5;
  gpu.line = 20;
  Policy etl;
  etl.deployment = "etl-*";
  etl.tags = {"critical", "nightly"};
  etl.delay = 1min;
  etl.orphan_grace = 0s;
  etl.line = 30;
  Policy any_gpu_later;
  any_gpu_later.work_pool = "gpu";
  any_gpu_later.max_attempts = 9;
  any_gpu_later.line = 40;
  c.policies = {gpu, etl, any_gpu_later};
  return c;
}

TEST(ResolvePolicy, FirstMatchWinsAndUnsetKeysFallBack) {
  const Config c = config_with_policies();
  auto p = resolve_policy(c, {"gpu", "", {}});
  EXPECT_EQ(p.max_attempts, 5);
  EXPECT_EQ(p.delay, 10s);  // from [retry]
  EXPECT_EQ(p.policy_line, 20);

  p = resolve_policy(c, {"k8s", "etl-daily", {"nightly", "critical", "x"}});
  EXPECT_EQ(p.max_attempts, 3);
  EXPECT_EQ(p.delay, 1min);
  EXPECT_EQ(p.orphan_grace, 0s);
  EXPECT_EQ(p.policy_line, 30);

  p = resolve_policy(c, {"k8s", "etl-daily", {"nightly"}});  // a tag missing
  EXPECT_EQ(p.policy_line, 0);
  p = resolve_policy(c, {"k8s", "", {"nightly", "critical"}});  // no deployment name
  EXPECT_EQ(p.policy_line, 0);
  EXPECT_EQ(p.orphan_grace, c.reaper.orphan_grace);
  EXPECT_TRUE(needs_deployment_name(c));
}

TEST(RetryDelay, GrowsGeometricallyUpToTheCap) {
  EffectivePolicy p;
  p.delay = 10s;
  p.max_delay = 5min;
  p.multiplier = 2.0;
  p.jitter = 0.0;
  EXPECT_EQ(retry_delay(p, 1, 0.5), 10s);
  EXPECT_EQ(retry_delay(p, 2, 0.5), 20s);
  EXPECT_EQ(retry_delay(p, 4, 0.5), 80s);
  EXPECT_EQ(retry_delay(p, 10, 0.5), 5min);
  EXPECT_EQ(retry_delay(p, 10000, 0.5), 5min);
}

TEST(RetryDelay, JitterSpreadsBothWays) {
  EffectivePolicy p;
  p.delay = 10s;
  p.max_delay = 5min;
  p.multiplier = 2.0;
  p.jitter = 0.1;
  EXPECT_EQ(retry_delay(p, 1, 0.0), 9s);
  EXPECT_EQ(retry_delay(p, 1, 0.5), 10s);
  EXPECT_EQ(retry_delay(p, 1, 1.0), 11s);
}

TEST(TransientDelay, DoublesToTheCap) {
  EXPECT_EQ(transient_delay(1, 500ms, 60s, 0.5), 500ms);
  EXPECT_EQ(transient_delay(3, 500ms, 60s, 0.5), 2s);
  EXPECT_EQ(transient_delay(30, 500ms, 60s, 0.5), 60s);
  EXPECT_EQ(transient_delay(1, 500ms, 60s, 0.0), 400ms);
}

}  // namespace
}  // namespace lifeline::reaper::reap
