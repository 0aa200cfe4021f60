#pragma once
// Builds the objects tests ask for: deployments, flow runs in any state and task runs.
// A run is walked through Prefect's usual states (Scheduled/Pending, Running, ...) with
// unforced proposals, so that its history, run_count, start_time and concurrency slots look
// like those of a run a real engine drove.
// Thread-safety: not thread-safe; FakePrefect calls it with its mutex held.

#include <string>

#include "tests/fakes/run_spec.hpp"
#include "tests/fakes/store.hpp"

namespace lifeline::fake_prefect {

class RunBuilder {
 public:
  explicit RunBuilder(Store& store) : store_(store) {}

  // Each throws std::invalid_argument on misuse (unknown state type, unknown deployment or
  // parent, or a state orchestration refuses, e.g. a full deployment limit).
  std::string create_deployment(const DeploymentSpec& spec, WallTime now);
  std::string create_run(const RunSpec& spec, WallTime now);
  std::string create_task_run(const TaskRunSpecForTest& spec, WallTime now);

 private:
  void walk_flow_run(const std::string& run_id, const RunSpec& spec, WallTime now);

  Store& store_;
};

}  // namespace lifeline::fake_prefect
