#pragma once
// Which runs the orphan sweep hands to the pipeline: RUNNING in Prefect with no lease for
// longer than the run's orphan_grace (reason orphan), or PENDING longer than it
// (stuck_pending). A grace of 0 disables the rule for the runs its policy covers. Pure.

#include <set>
#include <string>
#include <vector>

#include "reaper/config.hpp"
#include "reaper/prefect/prefect_types.hpp"
#include "reaper/reap/deployment_names.hpp"
#include "reaper/reap/reap_store.hpp"

namespace lifeline::reaper::reap {

// `leased`: run ids that have a lease row. Deployment names come from `names` when known.
std::vector<OrphanCandidate> select_orphans(const std::vector<prefect::FlowRun>& runs,
                                            const std::set<std::string>& leased, const Config& config,
                                            const DeploymentNames& names, WallTime now);

// The smallest non-zero orphan_grace of the defaults and every policy (0: the sweep is off).
Duration shortest_orphan_grace(const Config& config);

}  // namespace lifeline::reaper::reap
