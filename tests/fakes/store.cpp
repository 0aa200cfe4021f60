// Store: creating and reading objects. State transitions live in store_transitions.cpp.
#include "tests/fakes/store.hpp"

#include <algorithm>

#include "tests/fakes/serializers.hpp"

namespace lifeline::fake_prefect {

namespace {

std::optional<std::string> opt_string(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// Overlays the fields a client sent on Prefect's defaults, keeping the default order.
Json merged_policy(Json defaults, const Json& sent) {
  if (sent.is_object()) {
    for (auto it = sent.begin(); it != sent.end(); ++it) defaults[it.key()] = it.value();
  }
  return defaults;
}

}  // namespace

StateInput parse_state_create(const Json& state) {
  StateInput in;
  in.type = parse_state_type(state.value("type", "PENDING")).value_or(StateType::Pending);
  in.name = opt_string(state, "name");
  in.message = opt_string(state, "message");
  in.data = state.value("data", Json());
  in.details = state.value("state_details", Json());
  return in;
}

Store::Store(std::uint64_t seed) : ids_(seed), limits_(ids_) {}

const Flow& Store::upsert_flow(const std::string& name, const Json& tags, const Json& labels, WallTime now,
                               bool* created) {
  for (auto& [id, f] : flows_) {
    if (f.name == name) {
      if (created) *created = false;
      return f;
    }
  }
  Flow f;
  f.id = ids_.next();
  f.created = f.updated = now;
  f.name = name;
  if (tags.is_array()) f.tags = tags;
  if (labels.is_object()) f.labels = labels;
  if (created) *created = true;
  auto [it, inserted] = flows_.emplace(f.id, std::move(f));
  (void)inserted;
  return it->second;
}

const Flow* Store::flow(const std::string& id) const {
  auto it = flows_.find(id);
  return it == flows_.end() ? nullptr : &it->second;
}

Outcome<const Deployment*> Store::upsert_deployment(const Json& body, WallTime now, bool* created) {
  std::string flow_id = body.value("flow_id", "");
  std::string name = body.value("name", "");
  if (!flow(flow_id)) return api_error(404, "Flow not found");
  for (auto& [id, d] : deployments_) {
    if (d.flow_id == flow_id && d.name == name) {
      if (created) *created = false;
      return &d;
    }
  }
  Deployment d;
  d.id = ids_.next();
  d.created = d.updated = now;
  d.name = name;
  d.flow_id = flow_id;
  d.request = body;
  d.concurrency_options = body.value("concurrency_options", Json());
  d.work_pool_name = opt_string(body, "work_pool_name");
  d.work_queue_name = opt_string(body, "work_queue_name");
  if (d.work_pool_name && !d.work_queue_name) d.work_queue_name = "default";
  if (auto it = body.find("concurrency_limit"); it != body.end() && it->is_number_integer()) {
    const ConcurrencyLimit* l = limits_.create("deployment:" + d.id, it->get<int>(), true, 0.0, now);
    if (l) d.concurrency_limit_id = l->id;
  }
  if (created) *created = true;
  auto [it, inserted] = deployments_.emplace(d.id, std::move(d));
  (void)inserted;
  return &it->second;
}

const Deployment* Store::deployment(const std::string& id) const {
  auto it = deployments_.find(id);
  return it == deployments_.end() ? nullptr : &it->second;
}

std::string Store::work_pool_id(const std::string& pool) {
  auto [it, inserted] = work_pool_ids_.try_emplace(pool);
  if (inserted) it->second = ids_.next();
  return it->second;
}

std::string Store::work_queue_id(const std::string& pool, const std::string& queue) {
  auto [it, inserted] = work_queue_ids_.try_emplace(pool + "\n" + queue);
  if (inserted) it->second = ids_.next();
  return it->second;
}

Outcome<const FlowRun*> Store::create_flow_run(FlowRunSpec spec, WallTime now, bool* created) {
  const Deployment* dep = nullptr;
  if (spec.deployment_id) {
    dep = deployment(*spec.deployment_id);
    if (!dep) return api_error(404, "Deployment not found");
    spec.flow_id = dep->flow_id;
    if (!spec.work_pool_name) spec.work_pool_name = dep->work_pool_name;
    if (!spec.work_queue_name) spec.work_queue_name = dep->work_queue_name;
  }
  if (!flow(spec.flow_id)) return api_error(404, "Flow not found");
  if (spec.parent_task_run_id && !task_run(*spec.parent_task_run_id)) {
    return api_error(404, "Task run not found");
  }
  if (spec.idempotency_key) {
    // Prefect returns the run already created with this key (HTTP 200).
    for (const auto& [id, r] : flow_runs_) {
      if (r.flow_id == spec.flow_id && r.idempotency_key == spec.idempotency_key) {
        if (created) *created = false;
        return &r;
      }
    }
  }
  FlowRun run;
  run.id = ids_.next();
  run.created = run.updated = now;
  run.name = spec.name ? *spec.name : "fake-run-" + std::to_string(++run_name_counter_);
  run.flow_id = spec.flow_id;
  run.deployment_id = spec.deployment_id;
  run.flow_version = spec.flow_version;
  run.idempotency_key = spec.idempotency_key;
  run.parent_task_run_id = spec.parent_task_run_id;
  run.infrastructure_pid = spec.infrastructure_pid;
  if (spec.work_pool_name) {
    run.work_pool_name = spec.work_pool_name;
    run.work_pool_id = work_pool_id(*spec.work_pool_name);
    run.work_queue_name = spec.work_queue_name.value_or("default");
    run.work_queue_id = work_queue_id(*spec.work_pool_name, *run.work_queue_name);
  } else if (spec.work_queue_name) {
    run.work_queue_name = spec.work_queue_name;
  }
  run.parameters = spec.parameters.is_object() ? spec.parameters : Json::object();
  run.context = spec.context.is_object() ? spec.context : Json::object();
  run.job_variables = spec.job_variables.is_object() ? spec.job_variables : Json::object();
  run.empirical_policy = merged_policy(default_flow_run_policy(), spec.empirical_policy);
  run.tags = spec.tags.is_array() ? spec.tags : Json::array();
  run.labels = Json::object();
  run.labels["prefect.flow.id"] = run.flow_id;
  if (run.deployment_id) run.labels["prefect.deployment.id"] = *run.deployment_id;
  if (spec.labels.is_object()) {
    for (auto it = spec.labels.begin(); it != spec.labels.end(); ++it) run.labels[it.key()] = it.value();
  }
  StateInput initial;
  if (spec.state) {
    initial = *spec.state;
  } else if (spec.from_deployment) {
    initial.type = StateType::Scheduled;
    initial.details = Json::object();
    initial.details["scheduled_time"] = format_time(now);
  } else {
    initial.type = StateType::Pending;
  }
  std::string id = run.id;
  if (run.parent_task_run_id) flow_runs_by_parent_task_[*run.parent_task_run_id].push_back(id);
  flow_runs_.emplace(id, std::move(run));
  // Prefect writes the first state with force: no orchestration rule applies to it.
  auto outcome = set_flow_run_state(id, initial, /*force=*/true, now);
  (void)outcome;
  if (created) *created = true;
  return &flow_runs_.at(id);
}

const FlowRun* Store::flow_run(const std::string& id) const {
  auto it = flow_runs_.find(id);
  return it == flow_runs_.end() ? nullptr : &it->second;
}

Outcome<const TaskRun*> Store::create_task_run(TaskRunSpec spec, WallTime now, bool* created) {
  const FlowRun* fr = nullptr;
  if (spec.flow_run_id) {
    fr = flow_run(*spec.flow_run_id);
    if (!fr) return api_error(404, "Flow run not found");
    // Prefect returns the existing task run for the same (flow run, task key, dynamic key).
    for (const std::string& tid : task_runs_by_flow_run_[*spec.flow_run_id]) {
      const TaskRun& t = task_runs_.at(tid);
      if (t.task_key == spec.task_key && t.dynamic_key == spec.dynamic_key) {
        if (created) *created = false;
        return &t;
      }
    }
  }
  TaskRun run;
  run.id = spec.id ? *spec.id : ids_.next();
  if (task_runs_.count(run.id)) return api_error(409, "Task run already exists");
  run.created = run.updated = now;
  run.name = spec.name ? *spec.name : spec.task_key + "-" + spec.dynamic_key;
  run.flow_run_id = spec.flow_run_id;
  run.task_key = spec.task_key;
  run.dynamic_key = spec.dynamic_key;
  run.cache_key = spec.cache_key;
  run.cache_expiration = spec.cache_expiration;
  run.task_version = spec.task_version;
  run.empirical_policy = merged_policy(default_task_run_policy(), spec.empirical_policy);
  run.tags = spec.tags.is_array() ? spec.tags : Json::array();
  run.task_inputs = spec.task_inputs.is_object() ? spec.task_inputs : Json::object();
  run.labels = Json::object();
  if (fr) {
    run.labels["prefect.flow.id"] = fr->flow_id;
    run.labels["prefect.flow-run.id"] = fr->id;
    if (fr->deployment_id) run.labels["prefect.deployment.id"] = *fr->deployment_id;
  }
  if (spec.labels.is_object()) {
    for (auto it = spec.labels.begin(); it != spec.labels.end(); ++it) run.labels[it.key()] = it.value();
  }
  std::string id = run.id;
  if (run.flow_run_id) task_runs_by_flow_run_[*run.flow_run_id].push_back(id);
  task_runs_.emplace(id, std::move(run));
  StateInput initial;
  if (spec.state) initial = *spec.state;
  auto outcome = set_task_run_state(id, initial, /*force=*/true, now);
  (void)outcome;
  if (created) *created = true;
  return &task_runs_.at(id);
}

const TaskRun* Store::task_run(const std::string& id) const {
  auto it = task_runs_.find(id);
  return it == task_runs_.end() ? nullptr : &it->second;
}

std::vector<const TaskRun*> Store::task_runs_of(const std::string& flow_run_id) const {
  std::vector<const TaskRun*> out;
  auto it = task_runs_by_flow_run_.find(flow_run_id);
  if (it == task_runs_by_flow_run_.end()) return out;
  for (const auto& id : it->second) out.push_back(&task_runs_.at(id));
  return out;
}

std::vector<const FlowRun*> Store::flow_runs_of_task(const std::string& task_run_id) const {
  std::vector<const FlowRun*> out;
  auto it = flow_runs_by_parent_task_.find(task_run_id);
  if (it == flow_runs_by_parent_task_.end()) return out;
  for (const auto& id : it->second) out.push_back(&flow_runs_.at(id));
  return out;
}

Outcome<const TaskRun*> Store::create_subflow_task(const std::string& parent_flow_run_id,
                                                   const std::string& subflow_name, WallTime now) {
  TaskRunSpec spec;
  spec.flow_run_id = parent_flow_run_id;
  spec.task_key = subflow_name;
  spec.dynamic_key = std::to_string(task_runs_of(parent_flow_run_id).size());
  spec.name = subflow_name + "-" + spec.dynamic_key;
  return create_task_run(std::move(spec), now, nullptr);
}

Json Store::tag_limit_json(const ConcurrencyLimit& l, WallTime now) {
  Json j = Json::object();
  j["id"] = l.id;
  j["created"] = format_time(l.created);
  j["updated"] = format_time(l.updated);
  j["tag"] = l.name.substr(l.name.rfind("tag:", 0) == 0 ? 4 : 0);
  j["concurrency_limit"] = l.limit;
  Json slots = Json::array();
  for (auto& h : limits_.holders(l.id, now)) slots.push_back(h);
  j["active_slots"] = std::move(slots);
  return j;
}

}  // namespace lifeline::fake_prefect
