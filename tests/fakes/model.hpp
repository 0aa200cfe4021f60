#pragma once
// The objects the fake Prefect server keeps: flows, deployments, flow runs, task runs,
// their states, v2 concurrency limits and their leases. Plain values; the Store owns them.
// Thread-safety: plain data, guarded by the Store's owner.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/json.hpp"
#include "tests/fakes/state_type.hpp"
#include "tests/fakes/time_text.hpp"

namespace lifeline::fake_prefect {

struct State {
  std::string id;
  StateType type = StateType::Pending;
  std::string name;
  WallTime timestamp{};
  std::optional<std::string> message;
  Json data;     // null unless the client sent data
  Json details;  // a full StateDetails object, in Prefect's field order
};

struct Flow {
  std::string id;
  WallTime created{}, updated{};
  std::string name;
  Json tags = Json::array();
  Json labels = Json::object();
};

struct Deployment {
  std::string id;
  WallTime created{}, updated{};
  std::string name;
  std::string flow_id;
  std::optional<std::string> concurrency_limit_id;  // the v2 limit "deployment:<id>"
  Json concurrency_options;                         // null or {"collision_strategy": ...}
  std::optional<std::string> work_pool_name;
  std::optional<std::string> work_queue_name;
  Json request;  // what the client sent, for the fields echoed back verbatim
};

struct FlowRun {
  std::string id;
  WallTime created{}, updated{};
  std::string name;
  std::string flow_id;
  std::optional<std::string> deployment_id;
  std::optional<std::string> work_queue_id, work_queue_name, flow_version, idempotency_key;
  std::optional<std::string> parent_task_run_id, infrastructure_document_id, infrastructure_pid;
  std::optional<std::string> work_pool_id, work_pool_name;
  Json parameters = Json::object();
  Json context = Json::object();
  Json empirical_policy;  // FlowRunPolicy, in Prefect's field order
  Json tags = Json::array();
  Json labels = Json::object();
  Json job_variables = Json::object();
  int run_count = 0;
  std::optional<WallTime> expected_start_time, next_scheduled_start_time, start_time, end_time;
  double total_run_time = 0.0;
  std::vector<State> states;  // the history; back() is the current state

  const State* current() const { return states.empty() ? nullptr : &states.back(); }
};

struct TaskRun {
  std::string id;
  WallTime created{}, updated{};
  std::string name;
  std::optional<std::string> flow_run_id;
  std::string task_key, dynamic_key;
  std::optional<std::string> cache_key, task_version;
  Json cache_expiration;  // null or a timestamp string
  Json empirical_policy;  // TaskRunPolicy
  Json tags = Json::array();
  Json labels = Json::object();
  Json task_inputs = Json::object();
  int run_count = 0;
  int flow_run_run_count = 0;
  std::optional<WallTime> expected_start_time, next_scheduled_start_time, start_time, end_time;
  double total_run_time = 0.0;
  std::vector<State> states;

  const State* current() const { return states.empty() ? nullptr : &states.back(); }
};

// A v2 concurrency limit (global, "deployment:<id>" or "tag:<tag>").
struct ConcurrencyLimit {
  std::string id;
  WallTime created{}, updated{};
  bool active = true;
  std::string name;
  int limit = 1;
  int active_slots = 0;
  int denied_slots = 0;
  double slot_decay_per_second = 0.0;
  double avg_slot_occupancy_seconds = 2.0;
};

// A lease on slots of one or more limits; the slots come back when it is revoked or expires.
struct Lease {
  std::string id;
  std::vector<std::string> limit_ids;
  int slots = 1;
  WallTime expires{};
  Json holder;  // null or {"type": "flow_run"|"task_run", "id": ...}
};

}  // namespace lifeline::fake_prefect
