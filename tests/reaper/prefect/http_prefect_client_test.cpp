// The HTTP client against the in-process fake Prefect: calls, answers, errors as values,
// auth headers and the request metrics.
#include <gtest/gtest.h>

#include "reaper/prefect/http_prefect_client.hpp"
#include "reaper/prefect/prefect_error.hpp"
#include "tests/fakes/fake_prefect.hpp"

namespace lifeline::reaper::prefect {
namespace {

namespace fp = lifeline::fake_prefect;

class HttpPrefectClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake.start());
    config.api_url = fake.api_url();
    config.timeout = Duration{2000};
  }
  double requests(const std::string& endpoint, const std::string& code) {
    return metrics.prefect_requests(endpoint, code).Value();
  }

  fp::FakePrefect fake;
  PrefectConfig config;
  ReaperMetrics metrics{"test"};
  SystemClock clock;
};

TEST_F(HttpPrefectClientTest, ReadsCrashesAndReschedulesARun) {
  const std::string id = fake.create_run({.state = "RUNNING", .with_deployment = true});
  HttpPrefectClient c(config, metrics, clock);
  auto run = c.read_flow_run(id);
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(run->state_type(), "RUNNING");
  EXPECT_FALSE(run->deployment_id.empty());

  auto crash = c.set_flow_run_state(id, {"CRASHED", "Crashed", "m", "6b0f5a3e-1c2d-5e4f-8a9b-0c1d2e3f4a5b", {}});
  ASSERT_TRUE(crash) << crash.error().message;
  EXPECT_TRUE(crash->accepted());
  EXPECT_EQ(crash->http_status, 201);
  auto again = c.set_flow_run_state(id, {"CRASHED", "Crashed", "m", "6b0f5a3e-1c2d-5e4f-8a9b-0c1d2e3f4a5b", {}});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate_transition()) << again->status << " " << again->reason;

  EXPECT_EQ(requests("read_flow_run", "200"), 1);
  EXPECT_EQ(requests("set_flow_run_state", "201"), 1);
}

TEST_F(HttpPrefectClientTest, MissingRunIsNotFound) {
  HttpPrefectClient c(config, metrics, clock);
  auto run = c.read_flow_run("00000000-0000-4000-8000-000000000001");
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, errc::kNotFound);
  EXPECT_FALSE(is_transient(run.error()));
}

TEST_F(HttpPrefectClientTest, ServerErrorsAndSilenceAreTransient) {
  const std::string id = fake.create_run({});
  fake.inject(fp::Fault{.method = "GET", .path = "/api/flow_runs/*", .status = 503, .times = 1});
  HttpPrefectClient c(config, metrics, clock);
  auto run = c.read_flow_run(id);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, errc::kUnavailable);
  EXPECT_TRUE(is_transient(run.error()));
  EXPECT_EQ(requests("read_flow_run", "503"), 1);

  fake.inject(fp::Fault{.method = "GET", .path = "/api/flow_runs/*", .kind = fp::FaultKind::Drop, .times = 1});
  auto dropped = c.read_flow_run(id);
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().code, errc::kUnreachable);
  EXPECT_EQ(requests("read_flow_run", "0"), 1);

  config.api_url = "http://127.0.0.1:1/api";
  HttpPrefectClient nowhere(config, metrics, clock);
  auto none = nowhere.read_flow_run(id);
  ASSERT_FALSE(none);
  EXPECT_TRUE(is_transient(none.error()));
}

TEST_F(HttpPrefectClientTest, ABadRequestIsRejectedNotTransient) {
  HttpPrefectClient c(config, metrics, clock);
  auto r = c.set_flow_run_state("00000000-0000-4000-8000-000000000001", {"NOT_A_STATE", "", "", "", {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::kRejected);
  EXPECT_FALSE(is_transient(r.error()));
}

TEST_F(HttpPrefectClientTest, FindsActiveTaskRunsAndCrashesThem) {
  const std::string run = fake.create_run({.state = "RUNNING"});
  const std::string task = fake.create_task_run({.flow_run_id = run, .state = "RUNNING"});
  HttpPrefectClient c(config, metrics, clock);
  auto tasks = c.filter_task_runs(active_task_runs_body({run}, 200, 0));
  ASSERT_TRUE(tasks) << tasks.error().message;
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].id, task);
  auto r = c.set_task_run_state(task, {"CRASHED", "Crashed", "parent crashed", "", {}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->accepted());
}

TEST(BasicAuthorization, EncodesTheAuthStringAsPrefectDoes) {
  EXPECT_EQ(basic_authorization("admin:pass"), "Basic YWRtaW46cGFzcw==");
  EXPECT_EQ(basic_authorization("ab"), "Basic YWI=");
  EXPECT_EQ(basic_authorization("abc"), "Basic YWJj");
}

}  // namespace
}  // namespace lifeline::reaper::prefect
