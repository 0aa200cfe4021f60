#pragma once
// The Prefect REST calls the reaper makes, as an interface so the reap pipeline can be driven
// by the HTTP client in production and by anything else in tests.
// Thread-safety: implementations are NOT thread-safe; each worker thread owns one.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "reaper/prefect/prefect_requests.hpp"
#include "reaper/prefect/prefect_types.hpp"
#include "shared/result.hpp"

namespace lifeline::reaper::prefect {

class PrefectApi {
 public:
  virtual ~PrefectApi() = default;

  // GET /flow_runs/{id}
  virtual Result<FlowRun> read_flow_run(const std::string& id) = 0;
  // POST /flow_runs/filter with a body from prefect_requests.hpp
  virtual Result<std::vector<FlowRun>> filter_flow_runs(const nlohmann::json& body) = 0;
  // POST /task_runs/filter
  virtual Result<std::vector<TaskRun>> filter_task_runs(const nlohmann::json& body) = 0;
  // POST /flow_runs/{id}/set_state (never forced)
  virtual Result<OrchestrationResult> set_flow_run_state(const std::string& id, const StateProposal& p) = 0;
  // POST /task_runs/{id}/set_state (never forced)
  virtual Result<OrchestrationResult> set_task_run_state(const std::string& id, const StateProposal& p) = 0;
  // POST /v2/concurrency_limits/leases/{id}/renew: 204 exists, 410 (or 404) gone
  virtual Result<LeaseProbe> probe_concurrency_lease(const std::string& lease_id) = 0;
  // GET /deployments/{id}
  virtual Result<Deployment> read_deployment(const std::string& id) = 0;
  // POST /events with an array of events
  virtual Status emit_events(const nlohmann::json& events) = 0;
};

}  // namespace lifeline::reaper::prefect
