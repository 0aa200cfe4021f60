#include "reaper/prefect/http_prefect_client.hpp"

#include <httplib.h>

#include <stdexcept>

#include "reaper/prefect/prefect_error.hpp"
#include "reaper/prefect/prefect_responses.hpp"
#include "shared/address.hpp"

namespace lifeline::reaper::prefect {

using nlohmann::json;

std::string basic_authorization(const std::string& auth_string) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(auth_string[k]); };
  for (; i + 2 < auth_string.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = auth_string.size() - i;
  if (rest == 1) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

HttpPrefectClient::HttpPrefectClient(const PrefectConfig& config, ReaperMetrics& metrics, const Clock& clock)
    : metrics_(metrics), clock_(clock) {
  auto url = parse_http_url(config.api_url);
  if (!url) throw std::invalid_argument("prefect.api_url: " + url.error().message);
  base_path_ = url->base_path;
  http_ = std::make_unique<httplib::Client>((url->tls ? "https://" : "http://") + url->host_header());
  http_->set_keep_alive(true);
  // cpp-httplib writes a request as headers then body; with Nagle on, the body waits for the
  // server's delayed ACK (~40 ms per call, measured by tests/bench/reap_bench).
  http_->set_tcp_nodelay(true);
  http_->set_connection_timeout(config.timeout);
  http_->set_read_timeout(config.timeout);
  http_->set_write_timeout(config.timeout);
  httplib::Headers headers{{"Accept", "application/json"}};
  if (!config.api_key.empty()) headers.emplace("Authorization", "Bearer " + config.api_key);
  else if (!config.auth_string.empty()) headers.emplace("Authorization", basic_authorization(config.auth_string));
  http_->set_default_headers(std::move(headers));
}

HttpPrefectClient::~HttpPrefectClient() = default;

Result<HttpPrefectClient::Answer> HttpPrefectClient::call(const char* endpoint,
                                                          const std::string& path, const json* body) {
  const auto started = clock_.steady_now();
  const std::string full = base_path_ + path;
  httplib::Result res = (body == nullptr)
                            ? http_->Get(full)
                            : http_->Post(full, body->dump(), "application/json");
  const double seconds = std::chrono::duration<double>(clock_.steady_now() - started).count();
  metrics_.prefect_request_duration(endpoint).Observe(seconds);
  if (!res) {
    metrics_.prefect_requests(endpoint, "0").Increment();
    return make_error(errc::kUnreachable,
                      std::string("Prefect did not answer ") + endpoint + ": " + httplib::to_string(res.error()));
  }
  metrics_.prefect_requests(endpoint, std::to_string(res->status)).Increment();
  Answer a;
  a.status = res->status;
  if (!res->body.empty()) a.body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  return a;
}

namespace {

// An error for a non-success answer, with Prefect's own detail when it gave one.
Error status_error(const char* endpoint, int status, const json& body) {
  std::string detail;
  if (body.is_object()) {
    if (auto d = body.find("detail"); d != body.end()) detail = d->is_string() ? d->get<std::string>() : d->dump();
  }
  std::string msg = std::string("Prefect answered ") + std::to_string(status) + " to " + endpoint;
  if (!detail.empty()) msg += ": " + detail.substr(0, 300);
  return make_error(error_code_for_status(status), msg);
}

bool success(int status) { return status >= 200 && status < 300; }

}  // namespace

Result<FlowRun> HttpPrefectClient::read_flow_run(const std::string& id) {
  auto a = call("read_flow_run", "/flow_runs/" + id, nullptr);
  if (!a) return a.error();
  if (!success(a->status)) return status_error("read_flow_run", a->status, a->body);
  return parse_flow_run(a->body);
}

Result<std::vector<FlowRun>> HttpPrefectClient::filter_flow_runs(const json& body) {
  auto a = call("filter_flow_runs", "/flow_runs/filter", &body);
  if (!a) return a.error();
  if (!success(a->status)) return status_error("filter_flow_runs", a->status, a->body);
  return parse_flow_runs(a->body);
}

Result<std::vector<TaskRun>> HttpPrefectClient::filter_task_runs(const json& body) {
  auto a = call("filter_task_runs", "/task_runs/filter", &body);
  if (!a) return a.error();
  if (!success(a->status)) return status_error("filter_task_runs", a->status, a->body);
  return parse_task_runs(a->body);
}

Result<OrchestrationResult> HttpPrefectClient::set_state(const char* endpoint, const std::string& path,
                                                          const StateProposal& p) {
  const json body = set_state_body(p);
  auto a = call(endpoint, path, &body);
  if (!a) return a.error();
  if (!success(a->status)) return status_error(endpoint, a->status, a->body);
  return parse_orchestration_result(a->body, a->status);
}

Result<OrchestrationResult> HttpPrefectClient::set_flow_run_state(const std::string& id, const StateProposal& p) {
  return set_state("set_flow_run_state", "/flow_runs/" + id + "/set_state", p);
}

Result<OrchestrationResult> HttpPrefectClient::set_task_run_state(const std::string& id, const StateProposal& p) {
  return set_state("set_task_run_state", "/task_runs/" + id + "/set_state", p);
}

Result<LeaseProbe> HttpPrefectClient::probe_concurrency_lease(const std::string& lease_id) {
  const json body = lease_renew_body(60);
  auto a = call("renew_concurrency_lease", "/v2/concurrency_limits/leases/" + lease_id + "/renew", &body);
  if (!a) return a.error();
  if (success(a->status)) return LeaseProbe::exists;
  if (a->status == 410 || a->status == 404) return LeaseProbe::gone;
  return status_error("renew_concurrency_lease", a->status, a->body);
}

Result<Deployment> HttpPrefectClient::read_deployment(const std::string& id) {
  auto a = call("read_deployment", "/deployments/" + id, nullptr);
  if (!a) return a.error();
  if (!success(a->status)) return status_error("read_deployment", a->status, a->body);
  return parse_deployment(a->body);
}

Status HttpPrefectClient::emit_events(const json& events) {
  auto a = call("emit_events", "/events", &events);
  if (!a) return a.error();
  if (!success(a->status)) return status_error("emit_events", a->status, a->body);
  return Ok{};
}

}  // namespace lifeline::reaper::prefect
