#include "tests/faults/soak/test_bed.hpp"

#include <sstream>
#include <stdexcept>

#include "tests/support/postgres_fixture.hpp"

namespace lifeline::faults {

namespace {

fake_prefect::FakePrefectOptions fake_options() {
  fake_prefect::FakePrefectOptions o;
  o.threads = 64;  // every reaper keeps max_in_flight + 2 keep-alive connections
  return o;
}

}  // namespace

TestBed::TestBed(const Options& options) : fake_(fake_options()) {
  if (auto started = fake_.start(); !started) throw std::runtime_error("fake Prefect did not start: " + started.error);
  fake_prefect::DeploymentSpec d;
  d.name = "fault-soak";
  deployment_id_ = fake_.create_deployment(d);

  const std::string db = testing::TempPostgres::shared().create_database();
  database_ = db.substr(db.rfind('/') + 1);
  for (int i = 0; i < options.reapers; ++i) {
    testing::ReaperProcess::Settings s;
    s.database_url = db;
    s.prefect_api_url = fake_.api_url();
    s.interval = options.reaper_interval;
    s.completion_grace = options.completion_grace;
    // Retries a few seconds out: a run must be AwaitingRetry once, and nothing here
    // starts the retried run again.
    s.retry_delay = "5s";
    s.name = "reaper-" + std::to_string(i + 1);
    reapers_.push_back(std::make_unique<testing::ReaperProcess>(s));
  }
}

TestBed::~TestBed() {
  reapers_.clear();  // SIGTERM drains each before the fake goes away
  fake_.stop();
}

std::string TestBed::create_running_run() {
  fake_prefect::RunSpec spec;
  spec.state = "RUNNING";
  spec.deployment_id = deployment_id_;
  spec.work_pool_name = "k8s";
  return fake_.create_run(spec);
}

double TestBed::reaper_counter_sum(const std::string& metric, const std::vector<std::string>& label_parts) const {
  double sum = 0;
  for (const auto& r : reapers_) {
    std::string text;
    if (testing::http_get_status(r->port(), "/metrics", &text) != 200)
      throw std::runtime_error("reaper " + r->url() + " did not answer /metrics");
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(metric + "{", 0) != 0 && line.rfind(metric + " ", 0) != 0) continue;
      bool all = true;
      for (const auto& part : label_parts) all = all && line.find(part) != std::string::npos;
      if (all) sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

}  // namespace lifeline::faults

namespace lifeline::faults {

std::string TestBed::query_value(const std::string& sql) const {
  return testing::TempPostgres::shared().query_value(sql, database_);
}

}  // namespace lifeline::faults
