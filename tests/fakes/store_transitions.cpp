// Store: proposed state changes, their orchestration and the bookkeeping Prefect's
// universal transforms do on every written state (times, counters, slots, events).
#include <algorithm>

#include "tests/fakes/serializers.hpp"
#include "tests/fakes/store.hpp"

namespace lifeline::fake_prefect {

namespace {

std::optional<std::string> detail_string(const Json& details, const char* key) {
  if (!details.is_object()) return std::nullopt;
  auto it = details.find(key);
  if (it == details.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<WallTime> detail_time(const Json& details, const char* key) {
  auto s = detail_string(details, key);
  return s ? parse_time(*s) : std::nullopt;
}

bool detail_bool(const Json& details, const char* key) {
  if (!details.is_object()) return false;
  auto it = details.find(key);
  return it != details.end() && it->is_boolean() && it->get<bool>();
}

// What set_state answers: the decision and the run's current state (the new one when it was
// written, else the unchanged one), for flow and task runs alike.
template <class Run>
SetStateOutcome answer_of(const Run& run, const Decision& d) {
  SetStateOutcome out;
  out.decision = d;
  out.state = to_json(*run.current());
  out.wrote = d.writes_state();
  return out;
}

StateFacts facts_from(StateType type, const std::string& name, const std::optional<std::string>& message,
                      const Json& data, const Json& details) {
  StateFacts f;
  f.type = type;
  f.name = name;
  f.message = message;
  f.transition_id = detail_string(details, "transition_id");
  f.scheduled_time = detail_time(details, "scheduled_time");
  f.has_persisted_result = !data.is_null() && !(data.is_object() && data.value("type", "") == "unpersisted");
  f.pause_reschedule = detail_bool(details, "pause_reschedule");
  f.pause_timeout = detail_time(details, "pause_timeout");
  f.pause_key = detail_string(details, "pause_key");
  if (details.is_object()) {
    if (auto it = details.find("retriable"); it != details.end() && it->is_boolean()) f.retriable = it->get<bool>();
  }
  return f;
}

StateFacts facts_of_input(const StateInput& in) {
  return facts_from(in.type, in.name.value_or(default_state_name(in.type)), in.message, in.data, in.details);
}

std::optional<int> json_int(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  return static_cast<int>(it->get<double>());
}

double json_double(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::vector<std::string> tags_of(const Json& tags) {
  std::vector<std::string> out;
  for (const auto& t : tags) {
    if (t.is_string()) out.push_back(t.get<std::string>());
  }
  return out;
}

Json task_holder(const std::string& id) {
  Json h = Json::object();
  h["type"] = "task_run";
  h["id"] = id;
  return h;
}

// Tag slots are not leased with a time limit in the fake: a task holds its slot until it
// leaves RUNNING (see the README of deviations in fake_prefect.hpp).
constexpr std::chrono::seconds kTagLeaseTtl{std::chrono::hours(24 * 365)};

}  // namespace

StateFacts facts_of(const State& s) { return facts_from(s.type, s.name, s.message, s.data, s.details); }

State Store::build_state(const StateInput& in, const Decision& d, WallTime now) {
  State s;
  s.id = ids_.next();
  s.timestamp = now;
  s.details = default_state_details();
  if (d.replacement) {
    s.type = d.replacement->type;
    s.name = d.replacement->name;
    s.message = d.replacement->message;
    if (d.replacement->scheduled_time) s.details["scheduled_time"] = format_time(to_micros(*d.replacement->scheduled_time));
    return s;
  }
  s.type = in.type;
  s.name = d.rename ? *d.rename : in.name.value_or(default_state_name(in.type));
  s.message = in.message;
  s.data = in.data;
  if (in.details.is_object()) {
    for (auto it = in.details.begin(); it != in.details.end(); ++it) s.details[it.key()] = it.value();
  }
  for (const char* key : {"scheduled_time", "cache_expiration", "pause_timeout"}) {
    if (auto t = detail_time(s.details, key)) s.details[key] = format_time(to_micros(*t));
  }
  return s;
}

FlowRunContext Store::flow_context(const FlowRun& run, WallTime now) {
  FlowRunContext ctx;
  if (const State* cur = run.current()) ctx.current = facts_of(*cur);
  ctx.has_deployment = run.deployment_id.has_value();
  ctx.has_parent_task_run = run.parent_task_run_id.has_value();
  ctx.has_infrastructure_pid = run.infrastructure_pid.has_value();
  ctx.resuming = run.empirical_policy.value("resuming", false);
  for (const auto& k : run.empirical_policy.value("pause_keys", Json::array())) {
    if (k.is_string()) ctx.pause_keys.push_back(k.get<std::string>());
  }
  ctx.run_count = run.run_count;
  ctx.retries = json_int(run.empirical_policy, "retries");
  ctx.retry_delay_seconds = json_double(run.empirical_policy, "retry_delay");
  ctx.now = now;
  if (run.deployment_id) {
    const Deployment* dep = deployment(*run.deployment_id);
    if (dep && dep->concurrency_limit_id) {
      if (ConcurrencyLimit* l = limits_.find(*dep->concurrency_limit_id, now); l && l->active) {
        ctx.deployment_slot = l->limit == 0                  ? SlotAvailability::ZeroLimit
                              : l->active_slots >= l->limit ? SlotAvailability::Full
                                                            : SlotAvailability::Available;
      }
      if (dep->concurrency_options.is_object() &&
          dep->concurrency_options.value("collision_strategy", "ENQUEUE") == "CANCEL_NEW") {
        ctx.collision_strategy = CollisionStrategy::CancelNew;
      }
    }
  }
  return ctx;
}

TaskRunContext Store::task_context(const TaskRun& run, WallTime now) {
  TaskRunContext ctx;
  if (const State* cur = run.current()) ctx.current = facts_of(*cur);
  if (run.flow_run_id) {
    ctx.has_flow_run = true;
    if (const FlowRun* fr = flow_run(*run.flow_run_id); fr && fr->current()) ctx.flow_run_state = facts_of(*fr->current());
  }
  ctx.run_count = run.run_count;
  ctx.retries = json_int(run.empirical_policy, "retries");
  ctx.retry_delay_seconds = json_double(run.empirical_policy, "retry_delay");
  ctx.now = now;
  for (const auto& tag : tags_of(run.tags)) {
    ConcurrencyLimit* l = limits_.find_by_name("tag:" + tag, now);
    if (!l || !l->active) continue;
    TagLimitFacts f;
    f.tag = tag;
    f.limit = l->limit;
    f.active = l->active_slots;
    f.held_by_this_run = !limits_.leases_held_by(l->id, run.id, now).empty();
    ctx.tag_limits.push_back(f);
  }
  return ctx;
}

Outcome<SetStateOutcome> Store::set_flow_run_state(const std::string& id, const StateInput& in, bool force,
                                                   WallTime now) {
  auto it = flow_runs_.find(id);
  if (it == flow_runs_.end()) return api_error(404, "Flow run not found");
  FlowRun& run = it->second;
  Decision d = decide_flow_run_transition(flow_context(run, now), facts_of_input(in), force);
  if (d.writes_state()) write_flow_state(run, build_state(in, d, now), d, now);
  return answer_of(run, d);
}

void Store::release_deployment_slot(const FlowRun& run, const State* initial, WallTime now) {
  if (!run.deployment_id) return;
  const Deployment* dep = deployment(*run.deployment_id);
  if (!dep || !dep->concurrency_limit_id) return;
  std::optional<std::string> lease_id;
  if (initial) lease_id = detail_string(initial->details, "deployment_concurrency_lease_id");
  if (lease_id) {
    // A lease that already lapsed gave its slot back when it expired: nothing more to free.
    (void)limits_.revoke_lease(*lease_id, now);
    return;
  }
  for (const auto& held : limits_.leases_held_by(*dep->concurrency_limit_id, run.id, now)) {
    (void)limits_.revoke_lease(held, now);
  }
}

void Store::write_flow_state(FlowRun& run, State s, const Decision& d, WallTime now) {
  const State* initial = run.current();
  std::optional<State> initial_copy;
  if (initial) initial_copy = *initial;
  s.details["flow_run_id"] = run.id;
  s.details["task_run_id"] = nullptr;

  if (initial_copy && d.copy_scheduled_time && !initial_copy->details["scheduled_time"].is_null()) {
    s.details["scheduled_time"] = initial_copy->details["scheduled_time"];
  }
  if (initial_copy && d.copy_lease_id && s.details["deployment_concurrency_lease_id"].is_null()) {
    s.details["deployment_concurrency_lease_id"] = initial_copy->details["deployment_concurrency_lease_id"];
  }
  if (d.take_deployment_slot && run.deployment_id) {
    const Deployment* dep = deployment(*run.deployment_id);
    if (dep && dep->concurrency_limit_id) {
      std::vector<const ConcurrencyLimit*> taken;
      const ConcurrencyLimit* l = limits_.find(*dep->concurrency_limit_id, now);
      if (l && limits_.increment({l->name}, 1, now, &taken)) {
        Json holder = Json::object();
        holder["type"] = "flow_run";
        holder["id"] = run.id;
        const Lease& lease = limits_.create_lease({l->id}, 1, kDeploymentLeaseTtl, holder, now);
        s.details["deployment_concurrency_lease_id"] = lease.id;
      }
    }
  }
  if (d.release_deployment_slot) release_deployment_slot(run, initial_copy ? &*initial_copy : nullptr, now);

  // Universal transforms (Prefect's GlobalFlowPolicy), in its order.
  auto scheduled = detail_time(s.details, "scheduled_time");
  if (s.type == StateType::Running && !run.start_time) run.start_time = now;
  if (is_terminal(s.type)) run.end_time = now;
  else if (initial_copy && is_terminal(initial_copy->type)) run.end_time.reset();
  if (initial_copy && initial_copy->type == StateType::Running) {
    run.total_run_time += seconds_between(initial_copy->timestamp, now);
  }
  if (!run.expected_start_time) {
    run.expected_start_time = (s.type == StateType::Scheduled && scheduled) ? *scheduled : now;
  }
  if (initial_copy && initial_copy->type == StateType::Scheduled) run.next_scheduled_start_time.reset();
  if (s.type == StateType::Scheduled) run.next_scheduled_start_time = scheduled;
  Json& policy = run.empirical_policy;
  if (s.type == StateType::Running && !policy.value("resuming", false)) ++run.run_count;
  if ((s.type == StateType::Running || is_terminal(s.type)) && policy.value("resuming", false)) {
    policy["resuming"] = false;
  }
  // Effects of the orchestration rules that let the state through.
  if (d.reset_pause_metadata) {
    policy["resuming"] = false;
    policy["pause_keys"] = Json::array();
  }
  if (d.set_retry_type) policy["retry_type"] = d.retry_type ? Json(*d.retry_type) : Json(nullptr);
  if (d.add_pause_key) policy["pause_keys"].push_back(*d.add_pause_key);
  if (d.set_resuming) policy["resuming"] = true;

  StateType intended = s.type;
  run.states.push_back(std::move(s));
  run.updated = now;
  const State& written = run.states.back();
  emit_flow_run_event(run, initial_copy ? &*initial_copy : nullptr, written, intended, now);

  // UpdateSubflowParentTask: the task run standing for a subflow follows its state (forced).
  if (run.parent_task_run_id && task_runs_.count(*run.parent_task_run_id)) {
    StateInput mirror;
    mirror.type = written.type;
    mirror.name = written.name;
    mirror.message = written.message;
    mirror.details = Json::object();
    mirror.details["child_flow_run_id"] = run.id;
    if (!written.details["scheduled_time"].is_null()) mirror.details["scheduled_time"] = written.details["scheduled_time"];
    (void)set_task_run_state(*run.parent_task_run_id, mirror, /*force=*/true, now);
  }
}

Outcome<SetStateOutcome> Store::set_task_run_state(const std::string& id, const StateInput& in, bool force,
                                                   WallTime now) {
  auto it = task_runs_.find(id);
  if (it == task_runs_.end()) return api_error(404, "Task run not found");
  TaskRun& run = it->second;
  Decision d = decide_task_run_transition(task_context(run, now), facts_of_input(in), force);
  if (d.writes_state()) write_task_state(run, build_state(in, d, now), d, now);
  return answer_of(run, d);
}

void Store::write_task_state(TaskRun& run, State s, const Decision& d, WallTime now) {
  const State* initial = run.current();
  std::optional<State> initial_copy;
  if (initial) initial_copy = *initial;
  s.details["flow_run_id"] = run.flow_run_id ? Json(*run.flow_run_id) : Json(nullptr);
  s.details["task_run_id"] = run.id;
  if (initial_copy && d.copy_scheduled_time && !initial_copy->details["scheduled_time"].is_null()) {
    s.details["scheduled_time"] = initial_copy->details["scheduled_time"];
  }
  for (const auto& tag : d.take_tag_slots) {
    ConcurrencyLimit* l = limits_.find_by_name("tag:" + tag, now);
    if (l && limits_.increment({l->name}, 1, now, nullptr)) {
      (void)limits_.create_lease({l->id}, 1, kTagLeaseTtl, task_holder(run.id), now);
    }
  }
  if (d.release_tag_slots) {
    for (const auto& tag : tags_of(run.tags)) {
      ConcurrencyLimit* l = limits_.find_by_name("tag:" + tag, now);
      if (!l) continue;
      for (const auto& lease : limits_.leases_held_by(l->id, run.id, now)) (void)limits_.revoke_lease(lease, now);
    }
  }
  if (d.reset_task_run_count) run.run_count = 0;
  auto scheduled = detail_time(s.details, "scheduled_time");
  if (s.type == StateType::Running && !run.start_time) run.start_time = now;
  if (is_terminal(s.type)) run.end_time = now;
  else if (initial_copy && is_terminal(initial_copy->type)) run.end_time.reset();
  if (initial_copy && initial_copy->type == StateType::Running) {
    run.total_run_time += seconds_between(initial_copy->timestamp, now);
  }
  if (!run.expected_start_time) {
    run.expected_start_time = (s.type == StateType::Scheduled && scheduled) ? *scheduled : now;
  }
  if (initial_copy && initial_copy->type == StateType::Scheduled) run.next_scheduled_start_time.reset();
  if (s.type == StateType::Scheduled) run.next_scheduled_start_time = scheduled;
  if (s.type == StateType::Running) {
    ++run.run_count;
    if (run.flow_run_id) {
      if (const FlowRun* fr = flow_run(*run.flow_run_id)) run.flow_run_run_count = fr->run_count;
    }
  }
  run.states.push_back(std::move(s));
  run.updated = now;
}

void Store::emit_flow_run_event(const FlowRun& run, const State* initial, const State& validated,
                                StateType intended, WallTime now) {
  auto brief = [](const State& s) {
    Json j = Json::object();
    j["name"] = s.name;
    j["type"] = std::string(to_string(s.type));
    if (s.message && !s.message->empty()) j["message"] = *s.message;
    return j;
  };
  std::string ts = format_time(validated.timestamp);
  if (!ts.empty() && ts.back() == 'Z') ts.replace(ts.size() - 1, 1, "+00:00");
  Json resource = Json::object();
  resource["prefect.run-count"] = std::to_string(run.run_count);
  resource["prefect.state-name"] = validated.name;
  resource["prefect.state-type"] = std::string(to_string(validated.type));
  resource["prefect.resource.id"] = "prefect.flow-run." + run.id;
  resource["prefect.resource.name"] = run.name;
  resource["prefect.state-message"] = validated.message.value_or("");
  resource["prefect.state-timestamp"] = ts;
  Json related = Json::array();
  auto add_related = [&](const std::string& rid, const std::string& name, const std::string& role) {
    Json r = Json::object();
    r["prefect.resource.id"] = rid;
    if (!name.empty()) r["prefect.resource.name"] = name;
    r["prefect.resource.role"] = role;
    related.push_back(std::move(r));
  };
  if (const Flow* f = flow(run.flow_id)) add_related("prefect.flow." + f->id, f->name, "flow");
  if (run.deployment_id) {
    const Deployment* dep = deployment(*run.deployment_id);
    add_related("prefect.deployment." + *run.deployment_id, dep ? dep->name : "", "deployment");
  }
  if (run.work_pool_name && run.work_pool_id) add_related("prefect.work-pool." + *run.work_pool_id, *run.work_pool_name, "work-pool");
  for (const auto& tag : tags_of(run.tags)) add_related("prefect.tag." + tag, "", "tag");
  Json intended_j = Json::object();
  intended_j["to"] = std::string(to_string(intended));
  intended_j["from"] = initial ? Json(std::string(to_string(initial->type))) : Json(nullptr);
  Json payload = Json::object();
  payload["intended"] = std::move(intended_j);
  payload["initial_state"] = initial ? brief(*initial) : Json(nullptr);
  payload["validated_state"] = brief(validated);
  Json event = Json::object();
  event["occurred"] = format_time(validated.timestamp);
  event["event"] = "prefect.flow-run." + validated.name;
  event["resource"] = std::move(resource);
  event["related"] = std::move(related);
  event["payload"] = std::move(payload);
  event["id"] = validated.id;
  event["follows"] = initial ? Json(initial->id) : Json(nullptr);
  events_.append(std::move(event), now);
}

}  // namespace lifeline::fake_prefect
