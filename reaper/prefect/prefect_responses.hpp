#pragma once
// Parsing of Prefect's JSON answers into the structs of prefect_types.hpp. Tolerant of
// fields a server version lacks (Prefect 2 has no deployment_concurrency_lease_id, no
// work_pool_name on old runs); strict about the fields decisions depend on (id, state type).
// Pure functions, no I/O.

#include <nlohmann/json.hpp>

#include <vector>

#include "reaper/prefect/prefect_types.hpp"
#include "shared/result.hpp"

namespace lifeline::reaper::prefect {

Result<RunState> parse_state(const nlohmann::json& j);
Result<FlowRun> parse_flow_run(const nlohmann::json& j);
Result<std::vector<FlowRun>> parse_flow_runs(const nlohmann::json& j);
Result<std::vector<TaskRun>> parse_task_runs(const nlohmann::json& j);
Result<OrchestrationResult> parse_orchestration_result(const nlohmann::json& j, int http_status);
Result<Deployment> parse_deployment(const nlohmann::json& j);

}  // namespace lifeline::reaper::prefect
