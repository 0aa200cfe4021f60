#include "reaper/reap/policy_matcher.hpp"

#include <algorithm>

namespace lifeline::reaper::reap {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point for the last `*` (linear in practice).
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool policy_matches(const Policy& p, const RunTraits& run) {
  if (p.work_pool && *p.work_pool != run.work_pool) return false;
  if (p.deployment && (run.deployment_name.empty() || !glob_match(*p.deployment, run.deployment_name)))
    return false;
  for (const auto& tag : p.tags)
    if (std::find(run.tags.begin(), run.tags.end(), tag) == run.tags.end()) return false;
  return true;
}

EffectivePolicy resolve_policy(const Config& config, const RunTraits& run) {
  EffectivePolicy e;
  e.max_attempts = config.retry.max_attempts;
  e.delay = config.retry.delay;
  e.max_delay = config.retry.max_delay;
  e.multiplier = config.retry.multiplier;
  e.jitter = config.retry.jitter;
  e.orphan_grace = config.reaper.orphan_grace;
  for (const auto& p : config.policies) {
    if (!policy_matches(p, run)) continue;
    e.max_attempts = p.max_attempts.value_or(e.max_attempts);
    e.delay = p.delay.value_or(e.delay);
    e.max_delay = p.max_delay.value_or(e.max_delay);
    e.multiplier = p.multiplier.value_or(e.multiplier);
    e.jitter = p.jitter.value_or(e.jitter);
    e.orphan_grace = p.orphan_grace.value_or(e.orphan_grace);
    e.policy_line = p.line;
    break;
  }
  return e;
}

bool needs_deployment_name(const Config& config) {
  return std::any_of(config.policies.begin(), config.policies.end(),
                     [](const Policy& p) { return p.deployment.has_value(); });
}

}  // namespace lifeline::reaper::reap
