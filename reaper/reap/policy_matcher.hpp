#pragma once
// Which retry policy applies to a run: the first [[policy]] whose matchers (work_pool,
// deployment name glob, tags all present) all match, its overrides falling back to [retry]
// and [reaper].orphan_grace. Pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "reaper/config.hpp"

namespace lifeline::reaper::reap {

// What a policy is matched on.
struct RunTraits {
  std::string work_pool;
  std::string deployment_name;  // "" when the run has no deployment (or it is unknown)
  std::vector<std::string> tags;
};

struct EffectivePolicy {
  int max_attempts = 0;
  Duration delay{0};
  Duration max_delay{0};
  double multiplier = 1.0;
  double jitter = 0.0;
  Duration orphan_grace{0};
  int policy_line = 0;  // line of the matching [[policy]]; 0 = the defaults
};

// Shell-style glob: `*` any run of characters, `?` one character, everything else literal.
bool glob_match(std::string_view pattern, std::string_view text);

bool policy_matches(const Policy& p, const RunTraits& run);

EffectivePolicy resolve_policy(const Config& config, const RunTraits& run);

// True when some policy needs the deployment's name (so the caller must look it up).
bool needs_deployment_name(const Config& config);

}  // namespace lifeline::reaper::reap
