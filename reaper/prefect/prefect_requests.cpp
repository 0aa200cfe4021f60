#include "reaper/prefect/prefect_requests.hpp"

#include "shared/time_format.hpp"

namespace lifeline::reaper::prefect {

using nlohmann::json;

json set_state_body(const StateProposal& p) {
  json state = {{"type", p.type}};
  if (!p.name.empty()) state["name"] = p.name;
  if (!p.message.empty()) state["message"] = p.message;
  json details = json::object();
  if (!p.transition_id.empty()) details["transition_id"] = p.transition_id;
  if (p.scheduled_time) details["scheduled_time"] = format_rfc3339(*p.scheduled_time);
  if (!details.empty()) state["state_details"] = std::move(details);
  return json{{"state", std::move(state)}, {"force", false}};
}

json flow_runs_by_id_body(const std::vector<std::string>& ids) {
  return json{{"flow_runs", {{"id", {{"any_", ids}}}}},
              {"sort", "ID_DESC"},
              {"limit", kMaxPageSize},
              {"offset", 0}};
}

json flow_runs_in_states_body(const std::vector<std::string>& state_types,
                              const std::vector<std::string>& work_pools,
                              std::optional<WallTime> started_before, int limit, int offset) {
  json flow_runs = {{"state", {{"type", {{"any_", state_types}}}}}};
  if (started_before) flow_runs["start_time"] = {{"before_", format_rfc3339(*started_before)}};
  json body = {{"flow_runs", std::move(flow_runs)}, {"sort", "ID_DESC"}, {"limit", limit}, {"offset", offset}};
  if (!work_pools.empty()) body["work_pools"] = {{"name", {{"any_", work_pools}}}};
  return body;
}

json subflow_runs_body(const std::vector<std::string>& parent_ids, int limit, int offset) {
  return json{{"flow_runs",
               {{"parent_flow_run_id", {{"any_", parent_ids}}},
                {"deployment_id", {{"is_null_", true}}},
                {"state", {{"type", {{"any_", {"RUNNING", "PENDING"}}}}}}}},
              {"sort", "ID_DESC"},
              {"limit", limit},
              {"offset", offset}};
}

json active_task_runs_body(const std::vector<std::string>& flow_run_ids, int limit, int offset) {
  return json{{"task_runs",
               {{"flow_run_id", {{"any_", flow_run_ids}}},
                {"state", {{"type", {{"any_", {"RUNNING", "PENDING"}}}}}}}},
              {"sort", "ID_DESC"},
              {"limit", limit},
              {"offset", offset}};
}

json lease_renew_body(int seconds) { return json{{"lease_duration", seconds}}; }

json event_json(const EventSpec& e) {
  json resource = {{"prefect.resource.id", "prefect.flow-run." + e.flow_run_id}};
  if (!e.flow_run_name.empty()) resource["prefect.resource.name"] = e.flow_run_name;
  return json{{"id", e.id},
              {"occurred", format_rfc3339(e.occurred)},
              {"event", e.event},
              {"resource", std::move(resource)},
              {"related", json::array()},
              {"payload", e.payload}};
}

}  // namespace lifeline::reaper::prefect
