#pragma once
// The few Prefect objects lifeline reads, reduced to the fields its decisions need.
// Parsed from the server's JSON by prefect_responses.hpp; plain values, no shared state.

#include <optional>
#include <string>
#include <vector>

#include "shared/clock.hpp"

namespace lifeline::reaper::prefect {

// A run's state as Prefect reports it (FlowRun.state / TaskRun.state / OrchestrationResult.state).
struct RunState {
  std::string id;
  std::string type;   // StateType: SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED,
                      // CRASHED, PAUSED, CANCELLING
  std::string name;   // e.g. "Running", "AwaitingRetry"
  std::optional<WallTime> timestamp;
  std::string message;
  std::string transition_id;                    // state_details.transition_id ("" when null)
  std::optional<WallTime> scheduled_time;       // state_details.scheduled_time
  std::string deployment_concurrency_lease_id;  // state_details (Prefect 3 only)
};

struct FlowRun {
  std::string id;
  std::string name;
  std::optional<RunState> state;
  std::string deployment_id;       // "" when the run has no deployment
  std::string work_pool_name;
  std::vector<std::string> tags;
  std::string parent_task_run_id;  // set for subflow runs
  int run_count = 0;
  std::string retry_type;          // empirical_policy.retry_type ("" when null)

  const std::string& state_type() const;  // "" when the run has no state
};

struct TaskRun {
  std::string id;
  std::string flow_run_id;
  std::optional<RunState> state;
};

// The answer to a set_state proposal.
struct OrchestrationResult {
  int http_status = 0;        // 201 when a new state was written, 200 otherwise
  std::string status;         // ACCEPT, REJECT, ABORT, WAIT
  std::string details_type;   // accept_details, reject_details, ...
  std::string reason;         // details.reason ("" when absent)
  std::optional<double> delay_seconds;  // WAIT only
  std::optional<RunState> state;        // the new state (ACCEPT) or the current one (REJECT/ABORT)

  bool accepted() const { return status == "ACCEPT"; }
  // REJECT "This run has already made this state transition.": our earlier proposal with the
  // same transition id is the run's current state, so the step is already done.
  bool duplicate_transition() const;
};

struct Deployment {
  std::string id;
  std::string name;
};

// What the renew probe of a deployment concurrency lease found.
enum class LeaseProbe { exists, gone };

inline bool is_terminal_state(const std::string& type) {
  return type == "COMPLETED" || type == "FAILED" || type == "CANCELLED" || type == "CRASHED";
}

}  // namespace lifeline::reaper::prefect
