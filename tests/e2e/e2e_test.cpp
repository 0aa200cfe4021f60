// End to end, with real parts: PostgreSQL, the lifeline-reaper process, lifeline-sidecar
// processes wrapping real workloads, and the fake Prefect API. Pods die in the ways pods
// die (vanish with their node, get evicted, crash) and the runs must be Crashed in Prefect
// and rescheduled, within the lease TTL plus a little.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "shared/time_format.hpp"
#include "tests/e2e/processes.hpp"
#include "tests/fakes/fake_prefect.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;
using fake_prefect::FakePrefect;
using fake_prefect::Json;
using fake_prefect::RunSpec;

constexpr auto kTtl = 5s;

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.start());
    ReaperProcess::Settings s;
    s.database_url = TempPostgres::shared().create_database();
    s.prefect_api_url = fake_.api_url();
    s.interval = "200ms";
    s.retry_delay = "2s";
    reaper_ = std::make_unique<ReaperProcess>(s);
  }

  std::string running_run() {
    RunSpec spec;
    spec.state = "RUNNING";
    spec.with_deployment = true;
    return fake_.create_run(spec);
  }

  std::unique_ptr<SidecarPod> start_pod(const std::string& run_id, const std::string& holder,
                                        const std::string& workload = "sleep 600") {
    SidecarPod::Settings p;
    p.run_id = run_id;
    p.reaper_url = reaper_->url();
    p.holder = holder;
    p.interval = "1s";
    p.ttl = "5s";
    p.kill_grace = "1s";
    p.workload = workload;
    auto pod = std::make_unique<SidecarPod>(p);
    EXPECT_TRUE(pod->wait_ready(10s)) << pod->sidecar().stderr_text();
    return pod;
  }

  // The states of a run whose type is `type`, oldest first.
  std::vector<Json> states_of_type(const std::string& run_id, const std::string& type) {
    std::vector<Json> out;
    for (const auto& s : fake_.history(run_id))
      if (s.value("type", "") == type) out.push_back(s);
    return out;
  }

  bool current_is(const std::string& run_id, const std::string& type, const std::string& name) {
    auto run = fake_.flow_run(run_id);
    return run && (*run)["state"].value("type", "") == type && (*run)["state"].value("name", "") == name;
  }

  // Seconds from `since` to the run's first Crashed state.
  double crash_delay(const std::string& run_id, std::chrono::system_clock::time_point since) {
    auto crashed = states_of_type(run_id, "CRASHED");
    if (crashed.empty()) return -1;
    auto ts = parse_rfc3339(crashed.front()["timestamp"].get<std::string>());
    return std::chrono::duration<double>(*ts - since).count();
  }

  FakePrefect fake_;
  std::unique_ptr<ReaperProcess> reaper_;
};

TEST_F(EndToEnd, VanishedPodIsCrashedThenRescheduledAndHealthyPodIsLeftAlone) {
  auto doomed = running_run();
  auto healthy = running_run();
  auto doomed_pod = start_pod(doomed, "flow-run-doomed-x1");
  auto healthy_pod = start_pod(healthy, "flow-run-healthy-y2");
  pid_t workload = doomed_pod->workload_pid();
  ASSERT_GT(workload, 0);

  auto killed_at = std::chrono::system_clock::now();
  doomed_pod->vanish();
  ASSERT_TRUE(wait_until([&] { return !process_alive(workload); }, 5s));

  // Crashed within the TTL plus a second or so, then AwaitingRetry.
  ASSERT_TRUE(wait_until([&] { return current_is(doomed, "SCHEDULED", "AwaitingRetry"); }, kTtl + 10s))
      << reaper_->process().stderr_text();
  double delay = crash_delay(doomed, killed_at);
  EXPECT_GT(delay, 0.0);
  EXPECT_LE(delay, std::chrono::duration<double>(kTtl).count() + 2.0) << "detection took " << delay << " s";

  auto crashed = states_of_type(doomed, "CRASHED");
  ASSERT_EQ(crashed.size(), 1u);
  std::string message = crashed[0].value("message", "");
  EXPECT_NE(message.find("lifeline"), std::string::npos) << message;
  EXPECT_NE(message.find("flow-run-doomed-x1"), std::string::npos) << message;
  EXPECT_FALSE(crashed[0]["state_details"]["transition_id"].is_null());
  auto retries = states_of_type(doomed, "SCHEDULED");
  ASSERT_FALSE(retries.empty());
  EXPECT_EQ(retries.back().value("name", ""), "AwaitingRetry");
  EXPECT_FALSE(retries.back()["state_details"]["scheduled_time"].is_null());

  // Never forced: every set_state the reaper sent says force false or leaves it out.
  for (const auto& c : fake_.calls_to("POST", "/api/flow_runs/*/set_state")) {
    auto body = Json::parse(c.body);
    EXPECT_FALSE(body.value("force", false)) << c.body;
  }

  // The healthy run was never touched and its sidecar still holds the lease.
  EXPECT_TRUE(states_of_type(healthy, "CRASHED").empty());
  EXPECT_TRUE(current_is(healthy, "RUNNING", "Running"));
  EXPECT_EQ(http_get_status(healthy_pod->health_port(), "/readyz"), 200);
}

TEST_F(EndToEnd, EvictedPodIsCrashedWithinASecond) {
  auto run = running_run();
  auto pod = start_pod(run, "flow-run-evicted-z3");
  auto evicted_at = std::chrono::system_clock::now();
  pod->evict();  // SIGTERM to the sidecar, as the kubelet does
  auto code = pod->sidecar().wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << pod->sidecar().stderr_text();
  ASSERT_TRUE(wait_until([&] { return !states_of_type(run, "CRASHED").empty(); }, 5s))
      << reaper_->process().stderr_text();
  double delay = crash_delay(run, evicted_at);
  EXPECT_LE(delay, 1.5) << "eviction to Crashed took " << delay << " s";
  ASSERT_TRUE(wait_until([&] { return current_is(run, "SCHEDULED", "AwaitingRetry"); }, 10s));
}

TEST_F(EndToEnd, WorkloadFailingWithoutReportingIsCrashedAtOnce) {
  auto run = running_run();
  auto pod = start_pod(run, "flow-run-failing-w4", "sleep 1; exit 7");
  auto code = pod->sidecar().wait_exit(15s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 7);  // exec mode exits with the workload's status
  auto exited_at = std::chrono::system_clock::now();
  ASSERT_TRUE(wait_until([&] { return !states_of_type(run, "CRASHED").empty(); }, 5s))
      << reaper_->process().stderr_text();
  EXPECT_LE(crash_delay(run, exited_at), 1.5);
}

TEST_F(EndToEnd, RunThatCompletesNormallyIsReleasedAndNeverCrashed) {
  auto run = running_run();
  auto pod = start_pod(run, "flow-run-fine-v5", "sleep 1; exit 0");
  // The flow's engine reports success before its process exits, as Prefect's does.
  auto answer = fake_.set_flow_run_state(run, Json{{"type", "COMPLETED"}, {"name", "Completed"}});
  ASSERT_EQ(answer.status, 201);
  auto code = pod->sidecar().wait_exit(15s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  std::string body;
  ASSERT_TRUE(wait_until(
      [&] {
        return http_get_status(reaper_->port(), "/v1/leases?state=released", &body) == 200 &&
               body.find(run) != std::string::npos;
      },
      5s))
      << body;
  EXPECT_TRUE(states_of_type(run, "CRASHED").empty());
  EXPECT_TRUE(current_is(run, "COMPLETED", "Completed"));
}

}  // namespace
}  // namespace lifeline::testing
