#pragma once
// Request bodies for the Prefect REST API, built exactly to its OpenAPI schema (StateCreate
// forbids unknown fields; filters use the `any_` forms; `limit` at most the server's
// default limit of 200). Pure functions, no I/O.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "shared/clock.hpp"

namespace lifeline::reaper::prefect {

// The most rows one filter call may ask for (PREFECT_SERVER_API_DEFAULT_LIMIT).
inline constexpr int kMaxPageSize = 200;

// A state lifeline proposes (to a flow run or a task run). Never forced.
struct StateProposal {
  std::string type;     // CRASHED or SCHEDULED
  std::string name;     // "Crashed" or "AwaitingRetry"
  std::string message;
  std::string transition_id;                // "" = none
  std::optional<WallTime> scheduled_time;   // SCHEDULED only
};

// Body_set_flow_run_state / Body_set_task_run_state: {"state": StateCreate, "force": false}.
nlohmann::json set_state_body(const StateProposal& p);

// Body_read_flow_runs: the runs with these ids (at most kMaxPageSize).
nlohmann::json flow_runs_by_id_body(const std::vector<std::string>& ids);

// Body_read_flow_runs: runs in one of `state_types`, optionally in `work_pools`, that started
// (start_time) at or before `started_before` when given; sorted for stable paging.
nlohmann::json flow_runs_in_states_body(const std::vector<std::string>& state_types,
                                        const std::vector<std::string>& work_pools,
                                        std::optional<WallTime> started_before, int limit, int offset);

// Body_read_flow_runs: in-process subflows of `parent_ids` (no deployment) that are RUNNING
// or PENDING.
nlohmann::json subflow_runs_body(const std::vector<std::string>& parent_ids, int limit, int offset);

// Body_read_task_runs: task runs of `flow_run_ids` that are RUNNING or PENDING.
nlohmann::json active_task_runs_body(const std::vector<std::string>& flow_run_ids, int limit, int offset);

// Body_renew_concurrency_lease: {"lease_duration": seconds} (the server's minimum is 60).
nlohmann::json lease_renew_body(int seconds);

// One Event for POST /events (the body is an array of these).
struct EventSpec {
  std::string id;          // a fresh UUIDv4
  std::string event;       // e.g. "lifeline.run.reaped"
  WallTime occurred;
  std::string flow_run_id;
  std::string flow_run_name;
  nlohmann::json payload = nlohmann::json::object();
};
nlohmann::json event_json(const EventSpec& e);

}  // namespace lifeline::reaper::prefect
