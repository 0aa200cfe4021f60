#pragma once
// The fake server's data and behaviour: flows, deployments, flow runs and task runs with
// their state histories, orchestrated by the rules in orchestration.hpp, plus concurrency
// limits and events. Every method takes the current time, so tests control time fully.
// Thread-safety: not thread-safe. FakePrefect serialises all access with one mutex.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/api_error.hpp"
#include "tests/fakes/concurrency_limits.hpp"
#include "tests/fakes/event_log.hpp"
#include "tests/fakes/model.hpp"
#include "tests/fakes/orchestration.hpp"
#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {

// A parsed StateCreate (the body was validated against the schema before).
struct StateInput {
  StateType type = StateType::Pending;
  std::optional<std::string> name;
  std::optional<std::string> message;
  Json data;     // null when absent
  Json details;  // the StateDetails the client sent (object) or null
};
StateInput parse_state_create(const Json& state);

struct SetStateOutcome {
  Decision decision;
  Json state;          // the state in the answer: the new one, or the current one
  bool wrote = false;  // a new state was written: HTTP 201, else 200
};

struct FlowRunSpec {
  std::string flow_id;
  std::optional<std::string> name, deployment_id, work_pool_name, work_queue_name;
  std::optional<std::string> parent_task_run_id, idempotency_key, flow_version, infrastructure_pid;
  Json tags = Json::array();
  Json labels = Json::object();
  Json parameters = Json::object();
  Json context = Json::object();
  Json job_variables = Json::object();
  Json empirical_policy;  // null: defaults
  std::optional<StateInput> state;
  bool from_deployment = false;  // default state Scheduled(now) instead of Pending
};

struct TaskRunSpec {
  std::optional<std::string> id, flow_run_id, name, cache_key, task_version;
  std::string task_key, dynamic_key;
  Json tags = Json::array();
  Json labels = Json::object();
  Json task_inputs = Json::object();
  Json empirical_policy;  // null: defaults
  Json cache_expiration;
  std::optional<StateInput> state;
};

class Store {
 public:
  explicit Store(std::uint64_t seed);

  // Flows: creating an existing name returns it (created = false), like Prefect.
  const Flow& upsert_flow(const std::string& name, const Json& tags, const Json& labels, WallTime now,
                          bool* created);
  const Flow* flow(const std::string& id) const;

  // Deployments (a minimal DeploymentCreate: name, flow_id, concurrency_limit,
  // concurrency_options, work_pool_name, work_queue_name; other fields are echoed).
  Outcome<const Deployment*> upsert_deployment(const Json& body, WallTime now, bool* created);
  const Deployment* deployment(const std::string& id) const;

  Outcome<const FlowRun*> create_flow_run(FlowRunSpec spec, WallTime now, bool* created);
  const FlowRun* flow_run(const std::string& id) const;
  const std::map<std::string, FlowRun>& flow_runs() const { return flow_runs_; }
  Outcome<SetStateOutcome> set_flow_run_state(const std::string& id, const StateInput& in, bool force,
                                              WallTime now);

  Outcome<const TaskRun*> create_task_run(TaskRunSpec spec, WallTime now, bool* created);
  const TaskRun* task_run(const std::string& id) const;
  const std::map<std::string, TaskRun>& task_runs() const { return task_runs_; }
  std::vector<const TaskRun*> task_runs_of(const std::string& flow_run_id) const;
  // The flow runs started by a task run (subflows): parent_task_run_id == task_run_id.
  std::vector<const FlowRun*> flow_runs_of_task(const std::string& task_run_id) const;
  Outcome<SetStateOutcome> set_task_run_state(const std::string& id, const StateInput& in, bool force,
                                              WallTime now);

  // A task run in `parent_flow_run_id` standing for a subflow, as Prefect's engine makes one.
  Outcome<const TaskRun*> create_subflow_task(const std::string& parent_flow_run_id,
                                              const std::string& subflow_name, WallTime now);

  // The v1 tag limit view ({id, created, updated, tag, concurrency_limit, active_slots}).
  Json tag_limit_json(const ConcurrencyLimit& l, WallTime now);

  ConcurrencyLimits& limits() { return limits_; }
  EventLog& events() { return events_; }
  const EventLog& events() const { return events_; }
  UuidGenerator& ids() { return ids_; }

  // How long the lease on a deployment slot lives before Prefect's engine must renew it.
  static constexpr std::chrono::seconds kDeploymentLeaseTtl{300};

 private:
  FlowRunContext flow_context(const FlowRun& run, WallTime now);
  TaskRunContext task_context(const TaskRun& run, WallTime now);
  State build_state(const StateInput& in, const Decision& d, WallTime now);
  void write_flow_state(FlowRun& run, State s, const Decision& d, WallTime now);
  void write_task_state(TaskRun& run, State s, const Decision& d, WallTime now);
  void release_deployment_slot(const FlowRun& run, const State* initial, WallTime now);
  void emit_flow_run_event(const FlowRun& run, const State* initial, const State& validated,
                           StateType intended, WallTime now);
  std::string work_pool_id(const std::string& pool);
  std::string work_queue_id(const std::string& pool, const std::string& queue);

  UuidGenerator ids_;
  ConcurrencyLimits limits_;
  EventLog events_;
  std::map<std::string, Flow> flows_;
  std::map<std::string, Deployment> deployments_;
  std::map<std::string, FlowRun> flow_runs_;
  std::map<std::string, TaskRun> task_runs_;
  std::map<std::string, std::vector<std::string>> task_runs_by_flow_run_;
  // Indexes for the filters: a filter by parent must not scan every run.
  std::map<std::string, std::vector<std::string>> flow_runs_by_parent_task_;
  std::map<std::string, std::string> work_pool_ids_;
  std::map<std::string, std::string> work_queue_ids_;
  std::uint64_t run_name_counter_ = 0;
};

// The facts orchestration needs about a stored state.
StateFacts facts_of(const State& s);

}  // namespace lifeline::fake_prefect
