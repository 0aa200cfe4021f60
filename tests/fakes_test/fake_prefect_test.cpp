// FakePrefect over HTTP: the reaper's path through Prefect (crash, free slots, reschedule),
// leases, subflows, request checking, faults, latency and the call log.
#include "tests/fakes/fake_prefect.hpp"

#include <httplib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace lifeline::fake_prefect {
namespace {

using namespace std::chrono_literals;

Json parse(const std::string& s) { return Json::parse(s); }

class FakePrefectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = fake_.start();
    ASSERT_TRUE(started) << started.error;
    cli_ = std::make_unique<httplib::Client>("127.0.0.1", fake_.port());
    cli_->set_read_timeout(5, 0);
  }

  HttpAnswer post(const std::string& path, const Json& body) {
    auto res = cli_->Post(path.c_str(), body.dump(), "application/json");
    if (!res) return {0, Json()};
    return {res->status, res->body.empty() ? Json() : Json::parse(res->body)};
  }
  HttpAnswer get(const std::string& path) {
    auto res = cli_->Get(path.c_str());
    if (!res) return {0, Json()};
    return {res->status, res->body.empty() ? Json() : Json::parse(res->body)};
  }
  HttpAnswer set_state(const std::string& run_id, const Json& state, bool force = false) {
    return post("/api/flow_runs/" + run_id + "/set_state", Json::object({{"state", state}, {"force", force}}));
  }
  std::string state_type(const std::string& run_id) { return fake_.flow_run(run_id)->at("state_type").get<std::string>(); }

  FakePrefect fake_;
  std::unique_ptr<httplib::Client> cli_;
};

const Json kCrash = parse(R"({"type": "CRASHED", "name": "Crashed", "message": "lifeline: no heartbeat",
                              "state_details": {"transition_id": "2f0c6d1e-5b7a-5c3e-9a4f-0e1d2c3b4a59"}})");

TEST_F(FakePrefectTest, CreatesRunsInAnyStateWithARealisticHistory) {
  RunSpec spec;
  spec.state = "CRASHED";
  spec.with_deployment = true;
  std::string id = fake_.create_run(spec);
  std::vector<std::string> types;
  for (const auto& s : fake_.history(id)) types.push_back(s["type"].get<std::string>());
  EXPECT_EQ(types, (std::vector<std::string>{"SCHEDULED", "PENDING", "RUNNING", "CRASHED"}));
  Json run = *fake_.flow_run(id);
  EXPECT_EQ(run["run_count"], 1);
  EXPECT_FALSE(run["start_time"].is_null());
  EXPECT_FALSE(run["end_time"].is_null());

  auto over_http = post("/__fake/runs", parse(R"({"state": "RUNNING", "work_pool_name": "gpu", "tags": ["a"]})"));
  ASSERT_EQ(over_http.status, 201) << over_http.body;
  EXPECT_EQ(over_http.body["state_type"], "RUNNING");
  EXPECT_EQ(over_http.body["work_pool_name"], "gpu");
  EXPECT_EQ(get("/__fake/runs/" + over_http.body["id"].get<std::string>() + "/history").body.size(), 2u);
}

TEST_F(FakePrefectTest, TheReapersPathThroughPrefect) {
  RunSpec spec;
  spec.with_deployment = true;
  spec.work_pool_name = "k8s";
  std::string run = fake_.create_run(spec);
  fake_.create_tag_limit("db", 1);
  std::string task = fake_.create_task_run({run, "RUNNING", {"db"}, "load"});
  EXPECT_EQ(get("/api/concurrency_limits/tag/db").body["active_slots"].size(), 1u);

  // Find it like the orphan sweep does.
  auto found = post("/api/flow_runs/filter", parse(R"({"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}},
                                                        "work_pools": {"name": {"any_": ["k8s"]}}, "limit": 200})"));
  ASSERT_EQ(found.status, 200);
  ASSERT_EQ(found.body.size(), 1u);

  // Crash it; the same proposal again is the duplicate-transition REJECT.
  auto crashed = set_state(run, kCrash);
  EXPECT_EQ(crashed.status, 201);
  EXPECT_EQ(crashed.body["status"], "ACCEPT");
  auto again = set_state(run, kCrash);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["status"], "REJECT");
  EXPECT_EQ(again.body["details"]["reason"], "This run has already made this state transition.");

  // Crashing the flow run does not free the task's tag slot; crashing the task does.
  EXPECT_EQ(get("/api/concurrency_limits/tag/db").body["active_slots"].size(), 1u);
  auto tasks = post("/api/task_runs/filter",
                    Json::object({{"task_runs", {{"flow_run_id", {{"any_", {run}}}}, {"state", {{"type", {{"any_", {"RUNNING", "PENDING"}}}}}}}},
                                  {"sort", "ID_DESC"}, {"limit", 200}, {"offset", 0}}));
  ASSERT_EQ(tasks.body.size(), 1u);
  EXPECT_EQ(tasks.body[0]["id"], task);
  auto task_crash = post("/api/task_runs/" + task + "/set_state",
                         parse(R"({"state": {"type": "CRASHED", "name": "Crashed", "message": "flow crashed"}, "force": false})"));
  EXPECT_EQ(task_crash.status, 201);
  EXPECT_TRUE(get("/api/concurrency_limits/tag/db").body["active_slots"].empty());

  // Reschedule: AwaitingRetry with a scheduled time.
  auto retry = set_state(run, parse(R"({"type": "SCHEDULED", "name": "AwaitingRetry",
                                        "state_details": {"scheduled_time": "2030-01-01T00:00:10+00:00"}})"));
  EXPECT_EQ(retry.status, 201) << retry.body;
  Json after = get("/api/flow_runs/" + run).body;
  EXPECT_EQ(after["state_name"], "AwaitingRetry");
  EXPECT_EQ(after["empirical_policy"]["retry_type"], "reschedule");
  EXPECT_EQ(after["next_scheduled_start_time"], "2030-01-01T00:00:10Z");

  // Replayed crash after the run moved on is judged afresh (Prefect has no compare-and-set).
  EXPECT_EQ(set_state(run, kCrash).body["status"], "ACCEPT");
  auto states = get("/api/flow_run_states/?flow_run_id=" + run);
  EXPECT_EQ(states.body.back()["type"], "CRASHED");
}

TEST_F(FakePrefectTest, TerminalRunsAbortACrashAndRunsWithoutDeploymentCannotBeRescheduled) {
  RunSpec spec;
  spec.state = "COMPLETED";
  std::string run = fake_.create_run(spec);
  auto crash = set_state(run, kCrash);
  EXPECT_EQ(crash.status, 200);
  EXPECT_EQ(crash.body["status"], "ABORT");
  EXPECT_EQ(crash.body["details"]["reason"], "Run is already in terminal state COMPLETED.");
  EXPECT_EQ(set_state(run, kCrash, /*force=*/true).body["status"], "ACCEPT");
  auto retry = set_state(run, parse(R"({"type": "SCHEDULED", "name": "AwaitingRetry"})"));
  EXPECT_EQ(retry.body["details"]["reason"], "Cannot reschedule a run without an associated deployment.");
}

TEST_F(FakePrefectTest, DeploymentLeaseRenewsUntilItLapses) {
  RunSpec spec;
  spec.with_deployment = true;
  spec.deployment_concurrency_limit = 1;
  std::string run = fake_.create_run(spec);
  Json details = fake_.flow_run(run)->at("state").at("state_details");
  std::string lease = details["deployment_concurrency_lease_id"].get<std::string>();
  std::string limit = "deployment:" + fake_.flow_run(run)->at("deployment_id").get<std::string>();
  EXPECT_EQ(fake_.concurrency_limit(limit)->at("active_slots"), 1);

  auto renew = [&] {
    auto res = cli_->Post(("/api/v2/concurrency_limits/leases/" + lease + "/renew").c_str(), R"({"lease_duration": 60})",
                          "application/json");
    return res ? res->status : 0;
  };
  EXPECT_EQ(renew(), 204);
  fake_.advance_time(61s);
  EXPECT_EQ(renew(), 410);
  EXPECT_EQ(fake_.concurrency_limit(limit)->at("active_slots"), 0);
}

TEST_F(FakePrefectTest, CrashingTheHolderFreesTheDeploymentSlot) {
  std::string dep = fake_.create_deployment({"limited", "flow", 1, std::nullopt, std::nullopt});
  RunSpec a;
  a.deployment_id = dep;
  std::string run_a = fake_.create_run(a);
  RunSpec b = a;
  b.state = "SCHEDULED";
  std::string run_b = fake_.create_run(b);
  auto blocked = set_state(run_b, parse(R"({"type": "PENDING", "name": "Pending"})"));
  EXPECT_EQ(blocked.status, 201);
  EXPECT_EQ(blocked.body["status"], "REJECT");
  EXPECT_EQ(blocked.body["state"]["name"], "AwaitingConcurrencySlot");
  EXPECT_EQ(set_state(run_a, kCrash).body["status"], "ACCEPT");
  EXPECT_EQ(set_state(run_b, parse(R"({"type": "PENDING", "name": "Pending"})")).body["status"], "ACCEPT");
}

TEST_F(FakePrefectTest, SubflowsAreFoundByParentAndFollowedByTheirParentTask) {
  std::string parent = fake_.create_run({});
  RunSpec child_spec;
  child_spec.parent_run_id = parent;
  child_spec.flow_name = "child";
  std::string child = fake_.create_run(child_spec);
  auto children = post("/api/flow_runs/filter",
                       Json::object({{"flow_runs", {{"parent_flow_run_id", {{"any_", {parent}}}},
                                                    {"state", {{"type", {{"any_", {"RUNNING"}}}}}},
                                                    {"deployment_id", {{"is_null_", true}}}}}}));
  ASSERT_EQ(children.body.size(), 1u) << children.body;
  EXPECT_EQ(children.body[0]["id"], child);
  auto parent_tasks = fake_.task_runs_of(parent);
  ASSERT_EQ(parent_tasks.size(), 1u);
  EXPECT_EQ(parent_tasks[0]["state_type"], "RUNNING");
  EXPECT_EQ(parent_tasks[0]["state"]["state_details"]["child_flow_run_id"], child);
  EXPECT_EQ(set_state(child, kCrash).status, 201);
  EXPECT_EQ(fake_.task_runs_of(parent)[0]["state_type"], "CRASHED");
}

TEST_F(FakePrefectTest, ChecksRequestsLikePrefect) {
  std::string run = fake_.create_run({});
  auto extra = set_state(run, parse(R"({"type": "CRASHED", "reason": "x"})"));
  EXPECT_EQ(extra.status, 422);
  EXPECT_EQ(extra.body["exception_message"], "Invalid request received.");
  EXPECT_EQ(extra.body["exception_detail"][0]["type"], "extra_forbidden");
  EXPECT_EQ(extra.body["exception_detail"][0]["loc"], parse(R"(["body", "state", "reason"])"));
  EXPECT_EQ(state_type(run), "RUNNING");

  EXPECT_EQ(post("/api/flow_runs/filter", parse(R"({"limit": 500})")).body["detail"],
            "Invalid limit: must be less than or equal to 200.");
  EXPECT_EQ(get("/api/flow_runs/not-a-uuid").status, 422);
  EXPECT_EQ(get("/api/no_such_thing").body, parse(R"({"detail": "Not Found"})"));
  EXPECT_EQ(get("/api/ready").status, 200);
  EXPECT_EQ(get("/api/flow_runs/filter").status, 422);  // GET matches /flow_runs/{id}, as in FastAPI
  EXPECT_EQ(get("/api/events/filter").status, 405);
  EXPECT_EQ(post("/api/work_pools/", Json::object()).status, 501);
  EXPECT_EQ(post("/api/flow_runs/filter", parse(R"({"flow_runs": {"created_by": {"type_": ["x"]}}})")).status, 501);
  auto bad_json = cli_->Post("/api/flow_runs/filter", "{not json", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 422);
}

TEST_F(FakePrefectTest, RecordsEvents) {
  Json event = parse(R"([{"id": "8dbf827b-b04a-489b-8dde-0de029cef6b5", "occurred": "2026-11-23T14:21:18.255873+00:00",
                          "event": "lifeline.run.reaped", "resource": {"prefect.resource.id": "prefect.flow-run.x"},
                          "related": [{"prefect.resource.id": "prefect.flow.y", "prefect.resource.role": "flow"}]}])");
  EXPECT_EQ(post("/api/events", event).status, 204);
  Json missing_id = event;
  missing_id[0].erase("id");
  EXPECT_EQ(post("/api/events", missing_id).status, 422);
  Json no_role = event;
  no_role[0]["related"][0].erase("prefect.resource.role");
  auto rejected = post("/api/events", no_role);
  EXPECT_EQ(rejected.status, 422);
  EXPECT_EQ(rejected.body["exception_detail"][0]["loc"], parse(R"(["body", 0, "related", 0])"));
  bool seen = false;
  for (const auto& e : fake_.events()) seen = seen || e["event"] == "lifeline.run.reaped";
  EXPECT_TRUE(seen);
}

TEST_F(FakePrefectTest, RecordsCalls) {
  std::string run = fake_.create_run({});
  fake_.clear_calls();
  set_state(run, kCrash);
  get("/api/flow_runs/" + run);
  auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].method, "POST");
  EXPECT_EQ(calls[0].path, "/api/flow_runs/" + run + "/set_state");
  EXPECT_EQ(parse(calls[0].body)["state"]["type"], "CRASHED");
  EXPECT_EQ(calls[0].status, 201);
  EXPECT_EQ(fake_.calls_to("POST", "/api/flow_runs/*/set_state").size(), 1u);
  EXPECT_EQ(get("/__fake/calls?method=GET").body.size(), 1u);
}

TEST_F(FakePrefectTest, InjectedStatusForNCalls) {
  std::string run = fake_.create_run({});
  Fault f;
  f.method = "POST";
  f.path = "/api/flow_runs/*/set_state";
  f.times = 2;
  fake_.inject(f);
  EXPECT_EQ(set_state(run, kCrash).status, 503);
  EXPECT_EQ(set_state(run, kCrash).status, 503);
  EXPECT_EQ(state_type(run), "RUNNING");  // refused before handling: nothing changed
  EXPECT_EQ(set_state(run, kCrash).status, 201);
  EXPECT_EQ(get("/api/health").status, 200);
}

TEST_F(FakePrefectTest, InjectedStatusAfterHandlingKeepsTheChange) {
  std::string run = fake_.create_run({});
  Fault f;
  f.path = "/api/flow_runs/*/set_state";
  f.phase = FaultPhase::AfterHandling;
  f.status = 502;
  f.times = 1;
  fake_.inject(f);
  EXPECT_EQ(set_state(run, kCrash).status, 502);
  EXPECT_EQ(state_type(run), "CRASHED");
  EXPECT_EQ(set_state(run, kCrash).body["status"], "REJECT");  // the retry is the duplicate
}

TEST_F(FakePrefectTest, DroppedConnectionsGetNoAnswer) {
  std::string run = fake_.create_run({});
  Fault before;
  before.kind = FaultKind::Drop;
  before.path = "/api/flow_runs/*/set_state";
  before.times = 1;
  fake_.inject(before);
  EXPECT_EQ(set_state(run, kCrash).status, 0);
  EXPECT_EQ(state_type(run), "RUNNING");

  Fault after = before;
  after.phase = FaultPhase::AfterHandling;
  fake_.inject(after);
  EXPECT_EQ(set_state(run, kCrash).status, 0);
  EXPECT_EQ(state_type(run), "CRASHED");
  EXPECT_EQ(fake_.calls_to("POST", "/api/flow_runs/*/set_state").back().status, 0);
  EXPECT_EQ(get("/api/health").status, 200);
}

TEST_F(FakePrefectTest, FaultWindowEnds) {
  Fault f;
  f.path = "/api/health";
  f.for_duration = 100ms;
  fake_.inject(f);
  EXPECT_EQ(get("/api/health").status, 503);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline && (status = get("/api/health").status) == 503) {
  }
  EXPECT_EQ(status, 200);
}

TEST_F(FakePrefectTest, DelaysAndLatency) {
  Fault f;
  f.kind = FaultKind::Delay;
  f.path = "/api/health";
  f.delay = 200ms;
  f.times = 1;
  fake_.inject(f);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(get("/api/health").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);

  fake_.set_latency(100ms);
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(get("/api/version").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  fake_.set_latency(0ms);
}

// The latency is the call's whole time at the fake: the change is made when the call
// arrives, and the answer leaves `latency` after that, not `latency` plus the handling.
TEST_F(FakePrefectTest, LatencyCountsFromTheCallsArrival) {
  std::string run = fake_.create_run(RunSpec{});
  fake_.set_latency(2000ms);
  std::atomic<bool> answered{false};
  HttpAnswer answer;
  auto t0 = std::chrono::steady_clock::now();
  std::thread caller([&] {
    answer = set_state(run, kCrash);
    answered = true;
  });
  auto deadline = t0 + 1500ms;
  while (state_type(run) != "CRASHED" && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(state_type(run), "CRASHED");
  EXPECT_FALSE(answered) << "the answer must wait out the latency";
  caller.join();
  EXPECT_EQ(answer.status, 201) << answer.body;
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 2000ms);
  auto calls = fake_.calls_to("POST", "/api/flow_runs/*/set_state");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_GE(calls[0].duration, 2000ms);
  fake_.set_latency(0ms);
}

TEST_F(FakePrefectTest, ControlApiInjectsFaultsAndMovesTime) {
  auto added = post("/__fake/faults", parse(R"({"method": "GET", "path": "/api/health", "status": 500, "times": 1})"));
  EXPECT_EQ(added.status, 201);
  EXPECT_EQ(get("/__fake/faults").body.size(), 1u);
  EXPECT_EQ(get("/api/health").status, 500);
  EXPECT_EQ(get("/api/health").status, 200);
  auto before = fake_.now();
  EXPECT_EQ(post("/__fake/clock/advance", parse(R"({"ms": 60000})")).status, 200);
  EXPECT_GE(fake_.now() - before, 60s);
  EXPECT_EQ(post("/__fake/faults", parse(R"({"kind": "explode"})")).status, 400);
}

TEST_F(FakePrefectTest, ConcurrentClientsSeeConsistentAnswers) {
  std::vector<std::string> runs;
  for (int i = 0; i < 40; ++i) runs.push_back(fake_.create_run({}));
  std::atomic<int> accepted{0}, rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", fake_.port());
      for (const auto& run : runs) {
        auto res = c.Post(("/api/flow_runs/" + run + "/set_state").c_str(), Json::object({{"state", kCrash}}).dump(),
                          "application/json");
        if (!res) continue;
        auto status = Json::parse(res->body)["status"];
        if (status == "ACCEPT") ++accepted;
        if (status == "REJECT") ++rejected;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 40);  // each run crashed exactly once
  EXPECT_EQ(rejected.load(), 120);
}

TEST(FakePrefectAuth, RequiresTheConfiguredAuthorization) {
  FakePrefectOptions options;
  options.authorization = basic_authorization("admin:pass");
  EXPECT_EQ(*options.authorization, "Basic YWRtaW46cGFzcw==");
  FakePrefect fake(options);
  ASSERT_TRUE(fake.start());
  httplib::Client cli("127.0.0.1", fake.port());
  auto health = cli.Get("/api/health");  // probes need no credentials
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto refused = cli.Post("/api/flow_runs/filter", "{}", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(Json::parse(refused->body), parse(R"({"exception_message": "Unauthorized"})"));
  httplib::Headers headers{{"Authorization", *options.authorization}};
  auto allowed = cli.Post("/api/flow_runs/filter", headers, "{}", "application/json");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
}

TEST(FakePrefectStart, ReportsAMissingSchema) {
  FakePrefectOptions options;
  options.openapi = "/nonexistent/openapi.json";
  FakePrefect fake(options);
  auto started = fake.start();
  EXPECT_FALSE(started);
  EXPECT_NE(started.error.find("openapi.json"), std::string::npos);
}

}  // namespace
}  // namespace lifeline::fake_prefect
