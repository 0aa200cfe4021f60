#include "tests/fakes/serializers.hpp"

#include <algorithm>

namespace lifeline::fake_prefect {

Json optional_string(const std::optional<std::string>& s) {
  return s ? Json(*s) : Json(nullptr);
}

Json optional_time(const std::optional<WallTime>& t) {
  return t ? Json(format_time(*t)) : Json(nullptr);
}

Json default_state_details() {
  Json d = Json::object();
  d["flow_run_id"] = nullptr;
  d["task_run_id"] = nullptr;
  d["child_flow_run_id"] = nullptr;
  d["scheduled_time"] = nullptr;
  d["cache_key"] = nullptr;
  d["cache_expiration"] = nullptr;
  d["deferred"] = false;
  d["untrackable_result"] = false;
  d["pause_timeout"] = nullptr;
  d["pause_reschedule"] = false;
  d["pause_key"] = nullptr;
  d["run_input_keyset"] = nullptr;
  d["refresh_cache"] = nullptr;
  d["retriable"] = nullptr;
  d["transition_id"] = nullptr;
  d["task_parameters_id"] = nullptr;
  d["traceparent"] = nullptr;
  d["deployment_concurrency_lease_id"] = nullptr;
  return d;
}

Json default_flow_run_policy() {
  Json p = Json::object();
  p["max_retries"] = 0;
  p["retry_delay_seconds"] = 0.0;
  p["retries"] = nullptr;
  p["retry_delay"] = nullptr;
  p["pause_keys"] = Json::array();
  p["resuming"] = false;
  p["retry_type"] = nullptr;
  return p;
}

Json default_task_run_policy() {
  Json p = Json::object();
  p["max_retries"] = 0;
  p["retry_delay_seconds"] = 0.0;
  p["retries"] = nullptr;
  p["retry_delay"] = nullptr;
  p["retry_jitter_factor"] = nullptr;
  return p;
}

Json to_json(const State& s) {
  Json j = Json::object();
  j["id"] = s.id;
  j["type"] = std::string(to_string(s.type));
  j["name"] = s.name;
  j["timestamp"] = format_time(s.timestamp);
  j["message"] = optional_string(s.message);
  j["data"] = s.data;
  j["state_details"] = s.details;
  return j;
}

Json to_json(const Flow& f) {
  Json j = Json::object();
  j["id"] = f.id;
  j["created"] = format_time(f.created);
  j["updated"] = format_time(f.updated);
  j["name"] = f.name;
  j["tags"] = f.tags;
  j["labels"] = f.labels;
  return j;
}

namespace {

// Prefect's hybrid properties, computed at read time.
double estimated_run_time(double total, const State* cur, WallTime now) {
  if (cur && cur->type == StateType::Running) return total + std::max(0.0, seconds_between(cur->timestamp, now));
  return total;
}

double estimated_start_delta(const std::optional<WallTime>& start, const std::optional<WallTime>& expected,
                             const State* cur, WallTime now) {
  if (start && expected && *start > *expected) return seconds_between(*expected, *start);
  if (!start && expected && *expected < now && cur && !is_terminal(cur->type)) {
    return seconds_between(*expected, now);
  }
  return 0.0;
}

}  // namespace

Json to_json(const FlowRun& r, WallTime now) {
  const State* cur = r.current();
  Json j = Json::object();
  j["id"] = r.id;
  j["created"] = format_time(r.created);
  j["updated"] = format_time(r.updated);
  j["name"] = r.name;
  j["flow_id"] = r.flow_id;
  j["state_id"] = cur ? Json(cur->id) : Json(nullptr);
  j["deployment_id"] = optional_string(r.deployment_id);
  j["deployment_version"] = nullptr;
  j["work_queue_id"] = optional_string(r.work_queue_id);
  j["work_queue_name"] = optional_string(r.work_queue_name);
  j["flow_version"] = optional_string(r.flow_version);
  j["parameters"] = r.parameters;
  j["idempotency_key"] = optional_string(r.idempotency_key);
  j["context"] = r.context;
  j["empirical_policy"] = r.empirical_policy;
  j["tags"] = r.tags;
  j["labels"] = r.labels;
  j["parent_task_run_id"] = optional_string(r.parent_task_run_id);
  j["state_type"] = cur ? Json(std::string(to_string(cur->type))) : Json(nullptr);
  j["state_name"] = cur ? Json(cur->name) : Json(nullptr);
  j["run_count"] = r.run_count;
  j["expected_start_time"] = optional_time(r.expected_start_time);
  j["next_scheduled_start_time"] = optional_time(r.next_scheduled_start_time);
  j["start_time"] = optional_time(r.start_time);
  j["end_time"] = optional_time(r.end_time);
  j["total_run_time"] = r.total_run_time;
  j["estimated_run_time"] = estimated_run_time(r.total_run_time, cur, now);
  j["estimated_start_time_delta"] = estimated_start_delta(r.start_time, r.expected_start_time, cur, now);
  j["auto_scheduled"] = false;
  j["infrastructure_document_id"] = optional_string(r.infrastructure_document_id);
  j["infrastructure_pid"] = optional_string(r.infrastructure_pid);
  j["created_by"] = nullptr;
  j["work_pool_id"] = optional_string(r.work_pool_id);
  j["work_pool_name"] = optional_string(r.work_pool_name);
  j["state"] = cur ? to_json(*cur) : Json(nullptr);
  j["job_variables"] = r.job_variables;
  return j;
}

Json to_json(const TaskRun& r, WallTime now) {
  const State* cur = r.current();
  Json j = Json::object();
  j["id"] = r.id;
  j["created"] = format_time(r.created);
  j["updated"] = format_time(r.updated);
  j["name"] = r.name;
  j["flow_run_id"] = optional_string(r.flow_run_id);
  j["task_key"] = r.task_key;
  j["dynamic_key"] = r.dynamic_key;
  j["cache_key"] = optional_string(r.cache_key);
  j["cache_expiration"] = r.cache_expiration;
  j["task_version"] = optional_string(r.task_version);
  j["empirical_policy"] = r.empirical_policy;
  j["tags"] = r.tags;
  j["labels"] = r.labels;
  j["state_id"] = cur ? Json(cur->id) : Json(nullptr);
  j["task_inputs"] = r.task_inputs;
  j["state_type"] = cur ? Json(std::string(to_string(cur->type))) : Json(nullptr);
  j["state_name"] = cur ? Json(cur->name) : Json(nullptr);
  j["run_count"] = r.run_count;
  j["flow_run_run_count"] = r.flow_run_run_count;
  j["expected_start_time"] = optional_time(r.expected_start_time);
  j["next_scheduled_start_time"] = optional_time(r.next_scheduled_start_time);
  j["start_time"] = optional_time(r.start_time);
  j["end_time"] = optional_time(r.end_time);
  j["total_run_time"] = r.total_run_time;
  j["estimated_run_time"] = estimated_run_time(r.total_run_time, cur, now);
  j["estimated_start_time_delta"] = estimated_start_delta(r.start_time, r.expected_start_time, cur, now);
  j["state"] = cur ? to_json(*cur) : Json(nullptr);
  return j;
}

Json to_json(const Deployment& d, const ConcurrencyLimit* limit) {
  const Json& req = d.request;
  auto echo = [&](const char* key, Json fallback) {
    auto it = req.find(key);
    return it != req.end() ? *it : fallback;
  };
  Json labels = echo("labels", Json::object());
  if (labels.is_null()) labels = Json::object();
  labels["prefect.flow.id"] = d.flow_id;
  Json j = Json::object();
  j["id"] = d.id;
  j["created"] = format_time(d.created);
  j["updated"] = format_time(d.updated);
  j["name"] = d.name;
  j["version"] = echo("version", nullptr);
  j["description"] = echo("description", nullptr);
  j["flow_id"] = d.flow_id;
  j["paused"] = echo("paused", false);
  j["schedules"] = Json::array();
  // Prefect 3.4.25 answers null here and shows the limit under global_concurrency_limit.
  j["concurrency_limit"] = nullptr;
  j["global_concurrency_limit"] = limit ? to_json(*limit) : Json(nullptr);
  j["concurrency_options"] = d.concurrency_options;
  j["job_variables"] = echo("job_variables", Json::object());
  j["parameters"] = echo("parameters", Json::object());
  j["tags"] = echo("tags", Json::array());
  j["labels"] = labels;
  j["work_queue_name"] = optional_string(d.work_queue_name);
  j["last_polled"] = nullptr;
  j["parameter_openapi_schema"] = echo("parameter_openapi_schema", Json::object());
  j["path"] = echo("path", nullptr);
  j["pull_steps"] = echo("pull_steps", Json::array());
  j["entrypoint"] = echo("entrypoint", nullptr);
  j["storage_document_id"] = echo("storage_document_id", nullptr);
  j["infrastructure_document_id"] = echo("infrastructure_document_id", nullptr);
  j["created_by"] = nullptr;
  j["updated_by"] = nullptr;
  j["work_pool_name"] = optional_string(d.work_pool_name);
  j["status"] = "NOT_READY";
  j["enforce_parameter_schema"] = echo("enforce_parameter_schema", true);
  return j;
}

Json to_json(const ConcurrencyLimit& l, bool created_view) {
  Json j = Json::object();
  j["id"] = l.id;
  j["created"] = format_time(l.created);
  j["updated"] = format_time(l.updated);
  j["active"] = l.active;
  j["name"] = l.name;
  j["limit"] = l.limit;
  j["active_slots"] = l.active_slots;
  if (created_view) j["denied_slots"] = l.denied_slots;
  j["slot_decay_per_second"] = l.slot_decay_per_second;
  if (created_view) j["avg_slot_occupancy_seconds"] = l.avg_slot_occupancy_seconds;
  return j;
}

Json minimal_json(const ConcurrencyLimit& l) {
  Json j = Json::object();
  j["id"] = l.id;
  j["name"] = l.name;
  j["limit"] = l.limit;
  return j;
}

}  // namespace lifeline::fake_prefect
