#include "tests/observability/observed_scenario.hpp"

#include <httplib.h>
#include <signal.h>

#include <stdexcept>

#include "tests/support/postgres_fixture.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;

std::string dashboards_dir() { return LIFELINE_DASHBOARDS_DIR; }

}  // namespace

ObservedScenario::ObservedScenario() {
  if (auto started = fake_.start(); !started) throw std::runtime_error("fake Prefect: " + started.error);
  ReaperProcess::Settings rs;
  rs.database_url = TempPostgres::shared().create_database();
  rs.prefect_api_url = fake_.api_url();
  rs.interval = "250ms";
  rs.retry_delay = "30s";
  reaper_ = std::make_unique<ReaperProcess>(rs);
  proxy_ = std::make_unique<TcpProxy>("127.0.0.1", reaper_->port());

  struct Plan {
    const char* name;
    const char* work_pool;
    bool via_proxy;
    std::vector<std::string> extra;
  };
  // Two pools so that per-pool panels and alerts have more than one series.
  const std::vector<Plan> plans = {
      {"healthy", "k8s", false, {}},
      {"vanishes", "k8s", false, {}},
      {"evicted", "gpu", false, {}},
      {"partitioned", "gpu", true, {"--on-unreachable=continue"}},  // keeps running, lease at risk
      {"fenced", "gpu", true, {}},                                  // stops its workload
  };
  for (const auto& p : plans) {
    fake_prefect::RunSpec spec;
    spec.state = "RUNNING";
    spec.with_deployment = true;
    spec.work_pool_name = p.work_pool;
    Pod pod;
    pod.name = std::string("flow-run-") + p.name;
    pod.work_pool = p.work_pool;
    pod.run_id = fake_.create_run(spec);
    SidecarPod::Settings s;
    s.run_id = pod.run_id;
    s.reaper_url = p.via_proxy ? proxy_->url() : reaper_->url();
    s.holder = pod.name;
    s.extra_args = p.extra;
    pod.pod = std::make_unique<SidecarPod>(s);
    pods_.push_back(std::move(pod));
  }
  for (auto& p : pods_) {
    if (!p.pod->wait_ready(15s)) {
      throw std::runtime_error("sidecar " + p.name + " did not get its lease:\n" + p.pod->sidecar().stderr_text());
    }
  }

  // A misconfigured client renews with malformed bodies, from the start (see strike()).
  // Its first rejection also creates the reaper's bad_request series, which the reaper
  // only creates on first use: a counter born with its first burst shows no increase.
  send_malformed_renewals(1);

  PrometheusServer::Settings ps;
  ps.targets.push_back({"lifeline-reaper", reaper_->port(), {{"namespace", kReaperNamespace}}});
  // A second replica that is down: nothing listens on its port.
  ps.targets.push_back({"lifeline-reaper", free_port(), {{"namespace", kReaperNamespace}}});
  for (const auto& p : pods_) {
    ps.targets.push_back({"lifeline-sidecars",
                          p.pod->health_port(),
                          {{"namespace", kFlowNamespace},
                           {"pod", p.name},
                           {"work_pool", p.work_pool},
                           {"deployment", "etl"},
                           {"flow_run_id", p.run_id}}});
  }
  ps.rule_files.push_back(dashboards_dir() + "/lifeline.rules.yml");
  ps.rules_interval = "1s";
  prometheus_ = std::make_unique<PrometheusServer>(ps);
  started_at_ = unix_now();

  // Rates need two samples and the alert rules a few evaluations: three scrapes of every
  // live target before anything happens.
  bool scraped = wait_until(
      [&] {
        auto a = prometheus_->query("count(count_over_time(up[1m]) >= 3 and up == 1)");
        return a.ok && !a.data["result"].empty() &&
               a.data["result"][0]["value"][1].get<std::string>() == std::to_string(pods_.size() + 1);
      },
      30s, 100ms);
  if (!scraped) throw std::runtime_error("prometheus did not scrape every target:\n" + logs());
}

ObservedScenario::~ObservedScenario() {
  prometheus_.reset();
  pods_.clear();
  proxy_.reset();
  reaper_.reset();
  fake_.stop();
}

ObservedScenario::Pod& ObservedScenario::pod(const std::string& name) {
  for (auto& p : pods_)
    if (p.name == "flow-run-" + name) return p;
  throw std::logic_error("no pod " + name);
}

void ObservedScenario::strike() {
  struck_at_ = unix_now();
  // Prefect has a bad moment: the next calls get 503 (the reaper retries them).
  fake_prefect::Fault fault;
  fault.times = 4;
  fake_.inject(fault);
  pod("vanishes").pod->vanish();
  pod("evicted").pod->evict();
  proxy_->set_mode(TcpProxy::Mode::black_hole);
  send_malformed_renewals(40);
}

void ObservedScenario::send_malformed_renewals(int n) {
  httplib::Client cli("127.0.0.1", reaper_->port());
  cli.set_read_timeout(5, 0);
  for (int i = 0; i < n; ++i) {
    cli.Put("/v1/leases/" + pod("healthy").run_id, "{\"holder\": 42}", "application/json");
  }
}

bool ObservedScenario::wait_settled(std::chrono::milliseconds timeout) {
  auto awaiting_retry = [&](const std::string& name) {
    auto run = fake_.flow_run(pod(name).run_id);
    return run && (*run)["state"].value("name", "") == "AwaitingRetry";
  };
  bool ok = wait_until(
      [&] {
        return awaiting_retry("vanishes") && awaiting_retry("evicted") && !pod("fenced").pod->sidecar().running();
      },
      timeout, 50ms);
  why_.clear();
  if (!awaiting_retry("vanishes")) why_ += "the vanished pod's run is not AwaitingRetry; ";
  if (!awaiting_retry("evicted")) why_ += "the evicted pod's run is not AwaitingRetry; ";
  if (pod("fenced").pod->sidecar().running()) why_ += "the fenced sidecar still runs; ";
  return ok;
}

std::map<std::string, std::string> ObservedScenario::grafana_variables() const {
  // Multi-value variables as Grafana formats them for Prometheus: a regex alternation.
  // $__rate_interval is what Grafana computes for a 15 s scrape (4 x 15 s); $__range
  // covers the whole scenario.
  return {{"namespace", kFlowNamespace},
          {"work_pool", "(k8s|gpu)"},
          {"reaper_namespace", kReaperNamespace},
          {"__rate_interval", "1m"},
          {"__interval", "1s"},
          {"__range", "10m"}};
}

std::string ObservedScenario::reaper_metrics() const {
  std::string body;
  if (http_get_status(reaper_->port(), "/metrics", &body) != 200) return "";
  return body;
}

std::string ObservedScenario::sidecar_metrics() const {
  std::string body;
  for (const auto& p : pods_) {
    if (p.name == "flow-run-healthy" && http_get_status(p.pod->health_port(), "/metrics", &body) == 200) return body;
  }
  return "";
}

std::string ObservedScenario::logs() const {
  std::string out = "--- reaper:\n" + reaper_->process().stderr_text();
  if (prometheus_) out += "\n--- prometheus:\n" + prometheus_->log();
  return out;
}

}  // namespace lifeline::testing
