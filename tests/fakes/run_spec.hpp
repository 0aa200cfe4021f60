#pragma once
// What tests ask the fake for: deployments, flow runs in a given state, task runs.
// Thread-safety: plain values.

#include <optional>
#include <string>
#include <vector>

namespace lifeline::fake_prefect {

// How tests ask for a flow run. The run is walked through Prefect's usual states
// (Scheduled/Pending, Running, ...) with unforced proposals, so its history, run_count,
// start_time and concurrency slots look like a real run's.
struct RunSpec {
  std::string state = "RUNNING";          // target StateType
  std::optional<std::string> state_name;  // name of the last state (default: the type's)
  std::optional<std::string> state_message;
  std::optional<std::string> deployment_id;  // an existing deployment
  bool with_deployment = false;              // or create one for this run
  std::optional<int> deployment_concurrency_limit;  // for a created deployment
  std::optional<std::string> work_pool_name;
  std::vector<std::string> tags;
  std::optional<std::string> parent_run_id;  // make this run a subflow of that run
  std::optional<std::string> name;
  std::string flow_name = "fake-flow";
  std::optional<int> retries;                // empirical_policy.retries
};

struct DeploymentSpec {
  std::string name = "fake-deployment";
  std::string flow_name = "fake-flow";
  std::optional<int> concurrency_limit;
  std::optional<std::string> collision_strategy;  // "ENQUEUE" (default) or "CANCEL_NEW"
  std::optional<std::string> work_pool_name;
};

struct TaskRunSpecForTest {
  std::string flow_run_id;
  std::string state = "RUNNING";  // walked from PENDING; RUNNING takes tag slots
  std::vector<std::string> tags;
  std::optional<std::string> name;
};

}  // namespace lifeline::fake_prefect
