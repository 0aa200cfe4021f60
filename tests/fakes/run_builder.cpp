#include "tests/fakes/run_builder.hpp"

#include <stdexcept>

namespace lifeline::fake_prefect {

namespace {

StateInput state_input(StateType type, const std::optional<std::string>& name,
                       const std::optional<std::string>& message) {
  StateInput in;
  in.type = type;
  in.name = name;
  in.message = message;
  return in;
}

}  // namespace

std::string RunBuilder::create_deployment(const DeploymentSpec& spec, WallTime now) {
  const Flow& flow = store_.upsert_flow(spec.flow_name, Json::array(), Json::object(), now, nullptr);
  Json body = Json::object();
  body["name"] = spec.name;
  body["flow_id"] = flow.id;
  if (spec.concurrency_limit) body["concurrency_limit"] = *spec.concurrency_limit;
  if (spec.collision_strategy) body["concurrency_options"] = Json::object({{"collision_strategy", *spec.collision_strategy}});
  if (spec.work_pool_name) body["work_pool_name"] = *spec.work_pool_name;
  auto d = store_.upsert_deployment(body, now, nullptr);
  if (failed(d)) throw std::invalid_argument(std::get<ApiError>(d).body.dump());
  return std::get<const Deployment*>(d)->id;
}

std::string RunBuilder::create_run(const RunSpec& spec, WallTime now) {
  auto target = parse_state_type(spec.state);
  if (!target) throw std::invalid_argument("unknown state type " + spec.state);
  std::optional<std::string> deployment_id = spec.deployment_id;
  if (!deployment_id && spec.with_deployment) {
    DeploymentSpec d;
    d.name = "fake-deployment-" + std::to_string(store_.flow_runs().size() + 1);
    d.flow_name = spec.flow_name;
    d.concurrency_limit = spec.deployment_concurrency_limit;
    d.work_pool_name = spec.work_pool_name;
    deployment_id = create_deployment(d, now);
  }
  FlowRunSpec fs;
  if (deployment_id) {
    const Deployment* dep = store_.deployment(*deployment_id);
    if (!dep) throw std::invalid_argument("no deployment " + *deployment_id);
    fs.flow_id = dep->flow_id;
    fs.deployment_id = deployment_id;
    fs.from_deployment = true;
  } else {
    fs.flow_id = store_.upsert_flow(spec.flow_name, Json::array(), Json::object(), now, nullptr).id;
  }
  if (spec.parent_run_id) {
    auto task = store_.create_subflow_task(*spec.parent_run_id, spec.flow_name, now);
    if (failed(task)) throw std::invalid_argument("no parent flow run " + *spec.parent_run_id);
    fs.parent_task_run_id = std::get<const TaskRun*>(task)->id;
  }
  fs.name = spec.name;
  fs.work_pool_name = spec.work_pool_name;
  for (const auto& t : spec.tags) fs.tags.push_back(t);
  if (spec.retries) fs.empirical_policy = Json::object({{"retries", *spec.retries}});
  StateType initial = deployment_id ? StateType::Scheduled : StateType::Pending;
  if (*target == StateType::Scheduled) initial = StateType::Scheduled;
  bool target_is_initial = *target == initial;
  StateInput first = state_input(initial, target_is_initial ? spec.state_name : std::nullopt,
                                 target_is_initial ? spec.state_message : std::nullopt);
  if (initial == StateType::Scheduled) first.details = Json::object({{"scheduled_time", format_time(now)}});
  fs.state = first;
  auto run = store_.create_flow_run(std::move(fs), now, nullptr);
  if (failed(run)) throw std::invalid_argument(std::get<ApiError>(run).body.dump());
  std::string id = std::get<const FlowRun*>(run)->id;
  if (!target_is_initial) walk_flow_run(id, spec, now);
  return id;
}

void RunBuilder::walk_flow_run(const std::string& run_id, const RunSpec& spec, WallTime now) {
  StateType target = *parse_state_type(spec.state);
  std::vector<StateType> steps;
  const FlowRun* run = store_.flow_run(run_id);
  const State* current = run ? run->current() : nullptr;
  if (!current) throw std::invalid_argument("no flow run " + run_id);
  if (current->type == StateType::Scheduled) steps.push_back(StateType::Pending);
  if (target != StateType::Pending) steps.push_back(StateType::Running);
  if (target != StateType::Pending && target != StateType::Running) steps.push_back(target);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    bool last = i + 1 == steps.size();
    StateInput in = state_input(steps[i], last ? spec.state_name : std::nullopt, last ? spec.state_message : std::nullopt);
    auto outcome = store_.set_flow_run_state(run_id, in, /*force=*/false, now);
    const auto& o = std::get<SetStateOutcome>(outcome);
    if (o.decision.status != SetStateStatus::Accept) {
      throw std::invalid_argument("cannot bring the run to " + std::string(to_string(steps[i])) + ": " +
                                  std::string(to_string(o.decision.status)) + " " + o.decision.reason.value_or(""));
    }
  }
}

std::string RunBuilder::create_task_run(const TaskRunSpecForTest& spec, WallTime now) {
  auto target = parse_state_type(spec.state);
  if (!target) throw std::invalid_argument("unknown state type " + spec.state);
  TaskRunSpec ts;
  ts.flow_run_id = spec.flow_run_id;
  ts.task_key = spec.name.value_or("fake-task");
  ts.dynamic_key = std::to_string(store_.task_runs_of(spec.flow_run_id).size());
  ts.name = spec.name;
  for (const auto& t : spec.tags) ts.tags.push_back(t);
  auto run = store_.create_task_run(std::move(ts), now, nullptr);
  if (failed(run)) throw std::invalid_argument(std::get<ApiError>(run).body.dump());
  std::string id = std::get<const TaskRun*>(run)->id;
  std::vector<StateType> steps;
  if (*target != StateType::Pending) steps.push_back(StateType::Running);
  if (*target != StateType::Pending && *target != StateType::Running) steps.push_back(*target);
  for (StateType step : steps) {
    auto outcome = store_.set_task_run_state(id, state_input(step, std::nullopt, std::nullopt), false, now);
    const auto& o = std::get<SetStateOutcome>(outcome);
    if (o.decision.status != SetStateStatus::Accept) {
      throw std::invalid_argument("cannot bring the task run to " + std::string(to_string(step)) + ": " +
                                  std::string(to_string(o.decision.status)) + " " + o.decision.reason.value_or(""));
    }
  }
  return id;
}

}  // namespace lifeline::fake_prefect
