#pragma once
// ObservedScenario: a small lifeline installation watched by a real Prometheus. A fresh
// PostgreSQL database, the fake Prefect API, one reaper (plus a scrape target for a second
// replica that is down), five sidecar pods in two work pools, and Prometheus scraping them
// every second with the labels the dashboard variables use, dashboards/lifeline.rules.yml
// loaded. strike() then makes the pods die the ways pods die (one vanishes, one is
// evicted, two lose the reaper behind a black-holing proxy, one of them stopping its
// workload), while a misconfigured client sends malformed renewals and the Prefect API
// answers some calls with 503.
// Thread-safety: one owner thread.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/processes.hpp"
#include "tests/fakes/fake_prefect.hpp"
#include "tests/observability/prometheus_server.hpp"
#include "tests/support/tcp_proxy.hpp"

namespace lifeline::testing {

class ObservedScenario {
 public:
  // What the scrape labels are in this scenario (the values the Grafana variables take).
  static constexpr const char* kReaperNamespace = "lifeline";
  static constexpr const char* kFlowNamespace = "flows";

  // Starts everything and waits until Prometheus has scraped every live target a few
  // times (throws std::runtime_error on any failure, with logs).
  ObservedScenario();
  ~ObservedScenario();
  ObservedScenario(const ObservedScenario&) = delete;
  ObservedScenario& operator=(const ObservedScenario&) = delete;

  // The pods die or lose the reaper; bad renewals and Prefect errors happen.
  void strike();
  // Until Prefect shows the vanished and evicted runs awaiting a retry and the fenced pod
  // has stopped its workload and exited. False on timeout; why() says what is missing.
  bool wait_settled(std::chrono::milliseconds timeout);
  std::string why() const { return why_; }

  PrometheusServer& prometheus() { return *prometheus_; }
  // Values for the dashboard's variables ($namespace, $__rate_interval, ...).
  std::map<std::string, std::string> grafana_variables() const;
  double started_at() const { return started_at_; }  // Unix seconds, Prometheus start
  double struck_at() const { return struck_at_; }

  // /metrics of the reaper and of the healthy sidecar.
  std::string reaper_metrics() const;
  std::string sidecar_metrics() const;
  std::string logs() const;  // reaper and Prometheus stderr, for failure messages

 private:
  struct Pod {
    std::string name;  // holder and `pod` label
    std::string work_pool;
    std::string run_id;
    std::unique_ptr<SidecarPod> pod;
  };
  Pod& pod(const std::string& name);
  void send_malformed_renewals(int n);  // PUT /v1/leases/{id} with a bad body, n times

  fake_prefect::FakePrefect fake_;
  std::unique_ptr<ReaperProcess> reaper_;
  std::unique_ptr<TcpProxy> proxy_;  // between the partitioned pods and the reaper
  std::vector<Pod> pods_;
  std::unique_ptr<PrometheusServer> prometheus_;
  double started_at_ = 0;
  double struck_at_ = 0;
  std::string why_;
};

}  // namespace lifeline::testing
