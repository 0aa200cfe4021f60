#pragma once
// PrefectApi over HTTP with cpp-httplib: one keep-alive connection, blocking calls bounded by
// the configured timeout, every call counted in lifeline_reaper_prefect_requests_total
// {endpoint,code} (code 0 = no answer) and timed. Auth: api_key -> Bearer, auth_string -> Basic.
// Thread-safety: not thread-safe; one instance per worker thread.

#include <memory>
#include <string>

#include "reaper/config.hpp"
#include "reaper/metrics.hpp"
#include "reaper/prefect/prefect_api.hpp"
#include "shared/clock.hpp"

namespace httplib {
class Client;
}

namespace lifeline::reaper::prefect {

class HttpPrefectClient final : public PrefectApi {
 public:
  // Throws std::invalid_argument when api_url is not an http(s) URL (checked at startup).
  HttpPrefectClient(const PrefectConfig& config, ReaperMetrics& metrics, const Clock& clock);
  ~HttpPrefectClient() override;
  HttpPrefectClient(const HttpPrefectClient&) = delete;
  HttpPrefectClient& operator=(const HttpPrefectClient&) = delete;

  Result<FlowRun> read_flow_run(const std::string& id) override;
  Result<std::vector<FlowRun>> filter_flow_runs(const nlohmann::json& body) override;
  Result<std::vector<TaskRun>> filter_task_runs(const nlohmann::json& body) override;
  Result<OrchestrationResult> set_flow_run_state(const std::string& id, const StateProposal& p) override;
  Result<OrchestrationResult> set_task_run_state(const std::string& id, const StateProposal& p) override;
  Result<LeaseProbe> probe_concurrency_lease(const std::string& lease_id) override;
  Result<Deployment> read_deployment(const std::string& id) override;
  Status emit_events(const nlohmann::json& events) override;

 private:
  struct Answer {
    int status = 0;
    nlohmann::json body;  // null when empty or not JSON
  };
  // One request (GET when body is null, else POST); an error only when there was no answer.
  Result<Answer> call(const char* endpoint, const std::string& path,
                      const nlohmann::json* body);
  Result<OrchestrationResult> set_state(const char* endpoint, const std::string& path, const StateProposal& p);

  ReaperMetrics& metrics_;
  const Clock& clock_;
  std::string base_path_;
  std::unique_ptr<httplib::Client> http_;
};

// "Basic <base64(auth_string)>", as Prefect's own client sends PREFECT_API_AUTH_STRING.
std::string basic_authorization(const std::string& auth_string);

}  // namespace lifeline::reaper::prefect
