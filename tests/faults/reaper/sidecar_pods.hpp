#pragma once
// Real pods for the database scenarios: each a sidecar with a workload, its run created in
// the fake and tracked by the run book as a pod that must survive, renewing every second.
// Thread-safety: one owner thread.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/processes.hpp"
#include "tests/faults/reaper/report.hpp"
#include "tests/faults/reaper/run_book.hpp"

namespace lifeline::faults {

using Pods = std::vector<std::unique_ptr<testing::SidecarPod>>;

// Starts `count` pods (holders "<holder_prefix>-0", ...) against `reaper_url` with TTL
// `ttl_seconds`, each waited for until it holds its lease; nullopt (with the failed check
// recorded in `r`) when one does not within 15 s.
std::optional<Pods> start_pods(ScenarioResult& r, RunBook& book, const std::string& reaper_url, int count,
                               const std::string& holder_prefix, int ttl_seconds);

}  // namespace lifeline::faults
