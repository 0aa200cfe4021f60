#include "reaper/reap/orphan_rules.hpp"

#include "reaper/reap/policy_matcher.hpp"

namespace lifeline::reaper::reap {

std::vector<OrphanCandidate> select_orphans(const std::vector<prefect::FlowRun>& runs,
                                            const std::set<std::string>& leased, const Config& config,
                                            const DeploymentNames& names, WallTime now) {
  std::vector<OrphanCandidate> out;
  for (const auto& run : runs) {
    if (!run.state || !run.state->timestamp || run.state->id.empty()) continue;
    const std::string& type = run.state->type;
    if (type != "RUNNING" && type != "PENDING") continue;
    if (type == "RUNNING" && leased.count(run.id) != 0) continue;
    if (type == "PENDING" && leased.count(run.id) != 0) continue;  // a live sidecar is starting it
    RunTraits traits{run.work_pool_name, {}, run.tags};
    if (!run.deployment_id.empty()) traits.deployment_name = names.find(run.deployment_id).value_or("");
    const Duration grace = resolve_policy(config, traits).orphan_grace;
    if (grace.count() == 0) continue;
    if (now - *run.state->timestamp < grace) continue;
    out.push_back(OrphanCandidate{run.id, type == "RUNNING" ? ReapReason::orphan : ReapReason::stuck_pending,
                                  run.state->id, *run.state->timestamp});
  }
  return out;
}

Duration shortest_orphan_grace(const Config& config) {
  Duration best = config.reaper.orphan_grace;
  for (const auto& p : config.policies) {
    if (!p.orphan_grace || p.orphan_grace->count() == 0) continue;
    if (best.count() == 0 || *p.orphan_grace < best) best = *p.orphan_grace;
  }
  return best;
}

}  // namespace lifeline::reaper::reap
