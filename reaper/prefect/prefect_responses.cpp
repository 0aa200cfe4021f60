#include "reaper/prefect/prefect_responses.hpp"

#include "reaper/prefect/prefect_error.hpp"
#include "shared/time_format.hpp"

namespace lifeline::reaper::prefect {

using nlohmann::json;

namespace {

Error bad(const std::string& what) { return make_error(errc::kBadResponse, "Prefect answered " + what); }

// A string member, "" when absent or null.
std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

std::optional<WallTime> time_of(const json& j, const char* key) {
  auto s = str(j, key);
  if (s.empty()) return std::nullopt;
  return parse_rfc3339(s);
}

}  // namespace

Result<RunState> parse_state(const json& j) {
  if (!j.is_object()) return bad("a state that is not an object");
  RunState s;
  s.id = str(j, "id");
  s.type = str(j, "type");
  if (s.type.empty()) return bad("a state without a type");
  s.name = str(j, "name");
  s.timestamp = time_of(j, "timestamp");
  s.message = str(j, "message");
  if (auto d = j.find("state_details"); d != j.end() && d->is_object()) {
    s.transition_id = str(*d, "transition_id");
    s.scheduled_time = time_of(*d, "scheduled_time");
    s.deployment_concurrency_lease_id = str(*d, "deployment_concurrency_lease_id");
  }
  return s;
}

Result<FlowRun> parse_flow_run(const json& j) {
  if (!j.is_object()) return bad("a flow run that is not an object");
  FlowRun r;
  r.id = str(j, "id");
  if (r.id.empty()) return bad("a flow run without an id");
  r.name = str(j, "name");
  if (auto s = j.find("state"); s != j.end() && s->is_object()) {
    auto st = parse_state(*s);
    if (!st) return st.error();
    r.state = std::move(st).value();
  }
  r.deployment_id = str(j, "deployment_id");
  r.work_pool_name = str(j, "work_pool_name");
  r.parent_task_run_id = str(j, "parent_task_run_id");
  if (auto t = j.find("tags"); t != j.end() && t->is_array()) {
    for (const auto& tag : *t)
      if (tag.is_string()) r.tags.push_back(tag.get<std::string>());
  }
  if (auto c = j.find("run_count"); c != j.end() && c->is_number_integer()) r.run_count = c->get<int>();
  if (auto p = j.find("empirical_policy"); p != j.end() && p->is_object()) r.retry_type = str(*p, "retry_type");
  return r;
}

Result<std::vector<FlowRun>> parse_flow_runs(const json& j) {
  if (!j.is_array()) return bad("a flow run list that is not an array");
  std::vector<FlowRun> out;
  out.reserve(j.size());
  for (const auto& item : j) {
    auto r = parse_flow_run(item);
    if (!r) return r.error();
    out.push_back(std::move(r).value());
  }
  return out;
}

Result<std::vector<TaskRun>> parse_task_runs(const json& j) {
  if (!j.is_array()) return bad("a task run list that is not an array");
  std::vector<TaskRun> out;
  for (const auto& item : j) {
    if (!item.is_object()) return bad("a task run that is not an object");
    TaskRun t;
    t.id = str(item, "id");
    if (t.id.empty()) return bad("a task run without an id");
    t.flow_run_id = str(item, "flow_run_id");
    if (auto s = item.find("state"); s != item.end() && s->is_object()) {
      auto st = parse_state(*s);
      if (!st) return st.error();
      t.state = std::move(st).value();
    }
    out.push_back(std::move(t));
  }
  return out;
}

Result<OrchestrationResult> parse_orchestration_result(const json& j, int http_status) {
  if (!j.is_object()) return bad("an orchestration result that is not an object");
  OrchestrationResult r;
  r.http_status = http_status;
  r.status = str(j, "status");
  if (r.status.empty()) return bad("an orchestration result without a status");
  if (j.contains("details") && j.at("details").is_object()) {
    const json& d = j.at("details");
    r.details_type = str(d, "type");
    r.reason = str(d, "reason");
    if (d.contains("delay_seconds") && d.at("delay_seconds").is_number())
      r.delay_seconds = d.at("delay_seconds").get<double>();
  }
  if (auto s = j.find("state"); s != j.end() && s->is_object()) {
    auto st = parse_state(*s);
    if (!st) return st.error();
    r.state = std::move(st).value();
  }
  return r;
}

Result<Deployment> parse_deployment(const json& j) {
  if (!j.is_object()) return bad("a deployment that is not an object");
  Deployment d{str(j, "id"), str(j, "name")};
  if (d.id.empty()) return bad("a deployment without an id");
  return d;
}

}  // namespace lifeline::reaper::prefect
