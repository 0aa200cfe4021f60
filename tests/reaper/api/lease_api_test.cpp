// The heartbeat API over real HTTP against a real PostgreSQL.
#include "reaper/api/lease_api.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

#include "shared/uuid.hpp"
#include "tests/reaper/reaper_harness.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper::api {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using lifeline::testing::TempPostgres;
using lifeline::testing::wait_until;
using reaper::testing::ReaperHarness;

std::string renew_body(const std::string& holder, double ttl = 30, int seq = 1, const char* phase = "running") {
  return json{{"holder", holder}, {"node", "node-7"}, {"ttl_seconds", ttl}, {"seq", seq}, {"phase", phase}}.dump();
}

class LeaseApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start(Config{}); }

  void start(Config config, RunStatusSource* status = nullptr) {
    harness_.reset();
    uri_ = TempPostgres::shared().create_database();
    config.leases.min_ttl = 5s;
    config.leases.max_ttl = 10min;
    harness_ = std::make_unique<ReaperHarness>(uri_, config, status);
    ASSERT_TRUE(wait_until([&] { return harness_->batcher().available(); }, 10s));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", harness_->port());
    client_->set_keep_alive(true);
    client_->set_read_timeout(10, 0);
  }

  httplib::Result put(const std::string& run, const std::string& body, httplib::Headers headers = {}) {
    return client_->Put(("/v1/leases/" + run).c_str(), headers, body, "application/json");
  }
  httplib::Result release(const std::string& run, const std::string& body) {
    return client_->Post(("/v1/leases/" + run + "/release").c_str(), body, "application/json");
  }
  std::string sql(const std::string& q) const {
    return TempPostgres::shared().query_value(q, uri_.substr(uri_.rfind('/') + 1));
  }
  void exec(const std::string& q) const { TempPostgres::shared().exec(q, uri_.substr(uri_.rfind('/') + 1)); }
  int lease_count() const { return std::stoi(sql("SELECT count(*) FROM lifeline_leases")); }

  std::string uri_;
  std::unique_ptr<ReaperHarness> harness_;
  std::unique_ptr<httplib::Client> client_;
  const std::string run_ = "2f1e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b";
};

TEST_F(LeaseApiTest, RenewCreatesThenRenews) {
  auto r = put(run_, renew_body("pod-a", 30, 1));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  auto j = json::parse(r->body);
  EXPECT_EQ(j["run_id"], run_);
  EXPECT_EQ(j["epoch"], 1);
  EXPECT_EQ(j["ttl_seconds"], 30);
  EXPECT_EQ(j["directive"], "continue");
  auto again = put(run_, renew_body("pod-a", 30, 2, "terminating"));
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body)["epoch"], 1);
  EXPECT_EQ(sql("SELECT seq || ' ' || phase || ' ' || node FROM lifeline_leases"), "2 terminating node-7");
}

TEST_F(LeaseApiTest, UpperCaseRunIdIsTheSameLease) {
  std::string upper = "2F1E3D4C-5B6A-4798-8A7B-6C5D4E3F2A1B";
  ASSERT_EQ(put(upper, renew_body("pod-a"))->status, 200);
  ASSERT_EQ(put(run_, renew_body("pod-a"))->status, 200);
  EXPECT_EQ(lease_count(), 1);
}

TEST_F(LeaseApiTest, TtlIsClampedAndTheGrantedOneReturned) {
  auto low = put(run_, renew_body("pod-a", 1));
  EXPECT_EQ(json::parse(low->body)["ttl_seconds"], 5);
  EXPECT_EQ(sql("SELECT ttl_ms FROM lifeline_leases"), "5000");
  auto high = put(run_, renew_body("pod-a", 86400));
  EXPECT_EQ(json::parse(high->body)["ttl_seconds"], 600);
  EXPECT_EQ(sql("SELECT expires_at - renewed_at = interval '10 minutes' FROM lifeline_leases"), "t");
}

TEST_F(LeaseApiTest, OtherHolderGets409ThenTakesOverAfterExpiry) {
  ASSERT_EQ(put(run_, renew_body("pod-a"))->status, 200);
  auto c = put(run_, renew_body("pod-b"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 409);
  auto j = json::parse(c->body);
  EXPECT_EQ(j["error"], "holder_conflict");
  EXPECT_EQ(j["directive"], "stop");
  EXPECT_NE(j["detail"].get<std::string>().find("pod-a"), std::string::npos);
  exec("UPDATE lifeline_leases SET expires_at = now() - interval '1 second'");
  auto t = put(run_, renew_body("pod-b"));
  EXPECT_EQ(t->status, 200);
  EXPECT_EQ(json::parse(t->body)["epoch"], 2);
  // The old holder is now the one in conflict.
  EXPECT_EQ(put(run_, renew_body("pod-a"))->status, 409);
}

TEST_F(LeaseApiTest, HolderOfExpiredOrReapedLeaseGetsStop) {
  ASSERT_EQ(put(run_, renew_body("pod-a"))->status, 200);
  exec("UPDATE lifeline_leases SET state = 'expired'");
  auto s = put(run_, renew_body("pod-a"));
  EXPECT_EQ(s->status, 200);
  auto j = json::parse(s->body);
  EXPECT_EQ(j["directive"], "stop");
  EXPECT_TRUE(j.contains("reason"));
  exec("UPDATE lifeline_leases SET state = 'reaped'");
  auto r = json::parse(put(run_, renew_body("pod-a"))->body);
  EXPECT_EQ(r["directive"], "stop");
  EXPECT_NE(r["reason"].get<std::string>().find("reaped"), std::string::npos);
  // A retry pod (new holder) takes the reaped lease over.
  auto retry = put(run_, renew_body("pod-retry"));
  EXPECT_EQ(retry->status, 200);
  EXPECT_EQ(json::parse(retry->body)["epoch"], 2);
}

TEST_F(LeaseApiTest, ReleaseByHolderOnly) {
  auto missing = release(run_, R"({"holder":"pod-a","outcome":"exited","exit_code":0})");
  EXPECT_EQ(missing->status, 404);
  ASSERT_EQ(put(run_, renew_body("pod-a"))->status, 200);
  auto other = release(run_, R"({"holder":"pod-b","outcome":"exited","exit_code":0})");
  EXPECT_EQ(other->status, 409);
  auto mine = release(run_, R"({"holder":"pod-a","outcome":"evicted"})");
  ASSERT_EQ(mine->status, 200) << mine->body;
  auto j = json::parse(mine->body);
  EXPECT_EQ(j["state"], "released");
  EXPECT_EQ(j["epoch"], 1);
  EXPECT_EQ(sql("SELECT state || ' ' || release_outcome || ' ' || coalesce(exit_code::text, 'null') "
                "FROM lifeline_leases"),
            "released evicted null");
  // Retried release: same answer, nothing changes.
  EXPECT_EQ(release(run_, R"({"holder":"pod-a","outcome":"evicted"})")->status, 200);
}

TEST_F(LeaseApiTest, UrgentReleasesWakeTheReapPipeline) {
  std::atomic<int> wakes{0};
  harness_->on_io([&](LeaseApi& api) { api.set_release_listener([&] { ++wakes; }); });
  std::string a = uuid_v4(), b = uuid_v4(), c = uuid_v4();
  for (const auto& run : {a, b, c}) ASSERT_EQ(put(run, renew_body("pod-a"))->status, 200);
  ASSERT_EQ(release(a, R"({"holder":"pod-a","outcome":"exited","exit_code":0})")->status, 200);
  EXPECT_EQ(wakes.load(), 0);
  ASSERT_EQ(release(b, R"({"holder":"pod-a","outcome":"exited","exit_code":137})")->status, 200);
  EXPECT_EQ(wakes.load(), 1);
  ASSERT_EQ(release(c, R"({"holder":"pod-a","outcome":"evicted"})")->status, 200);
  EXPECT_EQ(wakes.load(), 2);
}

TEST_F(LeaseApiTest, MalformedRequestsAreRejectedAndWriteNothing) {
  struct Case {
    const char* method;
    std::string path;
    std::string body;
    std::string content_type;
    int status;
    const char* error;
  };
  std::string lease = "/v1/leases/" + run_;
  const Case cases[] = {
      {"PUT", "/v1/leases/not-a-uuid", renew_body("a"), "application/json", 400, "bad_request"},
      {"PUT", lease, "{nope", "application/json", 400, "bad_request"},
      {"PUT", lease, R"({"holder":"a","ttl_seconds":0})", "application/json", 400, "bad_request"},
      {"PUT", lease, R"({"holder":"a","ttl_seconds":30,"seq":-4})", "application/json", 400, "bad_request"},
      {"PUT", lease, R"({"holder":"a","ttl_seconds":30,"phase":"zombie"})", "application/json", 400, "bad_request"},
      {"PUT", lease, R"({"ttl_seconds":30})", "application/json", 400, "bad_request"},
      {"PUT", lease, renew_body("a"), "text/plain", 415, "unsupported_media_type"},
      {"POST", lease, renew_body("a"), "application/json", 405, "method_not_allowed"},
      {"PUT", "/v2/leases/" + run_, renew_body("a"), "application/json", 404, "not_found"},
      {"PUT", lease, std::string(70 * 1024, ' '), "application/json", 413, "body_too_large"},
      {"POST", lease + "/release", R"({"holder":"a","outcome":"gone","exit_code":1})", "application/json", 400,
       "bad_request"},
  };
  for (const auto& c : cases) {
    httplib::Client fresh("127.0.0.1", harness_->port());
    auto r = std::string(c.method) == "PUT" ? fresh.Put(c.path.c_str(), c.body, c.content_type.c_str())
                                            : fresh.Post(c.path.c_str(), c.body, c.content_type.c_str());
    ASSERT_TRUE(r) << c.path;
    EXPECT_EQ(r->status, c.status) << c.path << " " << c.body.substr(0, 80) << " -> " << r->body;
    auto j = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r->body;
    EXPECT_EQ(j["error"], c.error) << r->body;
    EXPECT_TRUE(j["detail"].is_string());
  }
  EXPECT_EQ(lease_count(), 0);
}

TEST_F(LeaseApiTest, TokenIsRequiredWhenConfigured) {
  Config c;
  c.server.token = "s3cret";
  start(c);
  auto none = put(run_, renew_body("pod-a"));
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(json::parse(none->body)["error"], "unauthorized");
  EXPECT_EQ(put(run_, renew_body("pod-a"), {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(client_->Get("/v1/leases")->status, 401);
  EXPECT_EQ(lease_count(), 0);
  EXPECT_EQ(put(run_, renew_body("pod-a"), {{"Authorization", "Bearer s3cret"}})->status, 200);
  // Probes and metrics stay open.
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  EXPECT_EQ(client_->Get("/metrics")->status, 200);
}

TEST_F(LeaseApiTest, TokenChangesOnReload) {
  Config c;
  c.server.token = "old";
  harness_->on_io([&](LeaseApi& api) { api.reload(c); });
  EXPECT_EQ(put(run_, renew_body("pod-a"))->status, 401);
  EXPECT_EQ(put(run_, renew_body("pod-a"), {{"Authorization", "Bearer old"}})->status, 200);
}

TEST_F(LeaseApiTest, ListLeasesWithFilters) {
  std::string other = uuid_v4();
  ASSERT_EQ(put(run_, renew_body("pod-a"))->status, 200);
  ASSERT_EQ(put(other, renew_body("pod-b"))->status, 200);
  exec("UPDATE lifeline_leases SET state = 'expired' WHERE holder = 'pod-b'");
  auto all = client_->Get("/v1/leases");
  ASSERT_EQ(all->status, 200);
  EXPECT_EQ(json::parse(all->body).size(), 2u);
  auto expired = json::parse(client_->Get("/v1/leases?state=expired")->body);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0]["run_id"], other);
  EXPECT_EQ(expired[0]["holder"], "pod-b");
  EXPECT_EQ(expired[0]["node"], "node-7");
  EXPECT_EQ(expired[0]["ttl_seconds"], 30.0);
  EXPECT_TRUE(expired[0]["released_at"].is_null());
  EXPECT_EQ(json::parse(client_->Get("/v1/leases?holder=pod-a")->body).size(), 1u);
  EXPECT_EQ(json::parse(client_->Get("/v1/leases?node=elsewhere")->body).size(), 0u);
  EXPECT_EQ(json::parse(client_->Get("/v1/leases?limit=1")->body).size(), 1u);
  EXPECT_EQ(client_->Get("/v1/leases?state=bogus")->status, 400);
}

class FixedStatus final : public RunStatusSource {
 public:
  std::optional<std::string> stop_reason(std::string_view run_id) override {
    ++asked;
    if (run_id == cancelled) return std::string("run is CANCELLING in Prefect");
    return std::nullopt;
  }
  std::string cancelled;
  std::atomic<int> asked{0};
};

TEST_F(LeaseApiTest, RunStatusSourceTurnsContinueIntoStop) {
  FixedStatus status;
  status.cancelled = run_;
  start(Config{}, &status);
  auto s = json::parse(put(run_, renew_body("pod-a"))->body);
  EXPECT_EQ(s["directive"], "stop");
  EXPECT_EQ(s["reason"], "run is CANCELLING in Prefect");
  // The renewal itself is durable: the lease stays the pod's until it exits.
  EXPECT_EQ(sql("SELECT state FROM lifeline_leases"), "active");
  auto other = json::parse(put(uuid_v4(), renew_body("pod-b"))->body);
  EXPECT_EQ(other["directive"], "continue");
  EXPECT_EQ(status.asked.load(), 2);
}

TEST_F(LeaseApiTest, ProbesAndMetrics) {
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  EXPECT_EQ(client_->Get("/readyz")->status, 200);
  ASSERT_EQ(put(run_, renew_body("pod-a"))->status, 200);
  ASSERT_EQ(put(run_, renew_body("pod-b"))->status, 409);
  auto m = client_->Get("/metrics");
  ASSERT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("lifeline_reaper_heartbeats_total{result=\"ok\"} 1"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("lifeline_reaper_heartbeats_total{result=\"conflict\"} 1"), std::string::npos);
  EXPECT_NE(m->body.find("lifeline_reaper_store_flush_duration_seconds_count"), std::string::npos);
  EXPECT_NE(m->body.find("lifeline_reaper_store_batch_size_count"), std::string::npos);
  EXPECT_NE(m->body.find("lifeline_reaper_ready 1"), std::string::npos);
  harness_->on_io([](LeaseApi& api) { api.set_draining(true); });
  EXPECT_EQ(client_->Get("/readyz")->status, 503);
}

TEST_F(LeaseApiTest, ConcurrentHeartbeatsAreGroupCommitted) {
  Config c;
  c.database.flush_window = Duration{5};
  start(c);
  constexpr int kClients = 40, kBeats = 10;
  std::vector<std::string> runs;
  for (int i = 0; i < kClients; ++i) runs.push_back(uuid_v4());
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  auto before = harness_->batcher().batches_committed();
  for (int i = 0; i < kClients; ++i)
    threads.emplace_back([&, i] {
      httplib::Client cl("127.0.0.1", harness_->port());
      cl.set_keep_alive(true);
      for (int k = 1; k <= kBeats; ++k) {
        auto r = cl.Put(("/v1/leases/" + runs[i]).c_str(), renew_body("pod-" + std::to_string(i), 30, k),
                        "application/json");
        (r && r->status == 200 ? ok : bad)++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kBeats);
  EXPECT_EQ(bad.load(), 0);
  auto round_trips = harness_->batcher().batches_committed() - before;
  EXPECT_LT(round_trips, static_cast<std::uint64_t>(kClients * kBeats / 2)) << round_trips;
  // Every client's last heartbeat is the durable one.
  EXPECT_EQ(sql("SELECT count(*) FROM lifeline_leases WHERE seq = " + std::to_string(kBeats)),
            std::to_string(kClients));
}

TEST(LeaseApiOutage, StoreUnavailableWhileDatabaseIsDownThenRecovers) {
  TempPostgres pg;  // its own cluster: this test stops it
  auto uri = pg.create_database();
  Config config;
  config.database.commit_timeout = Duration{2'000};
  ReaperHarness h(uri, config);
  ASSERT_TRUE(wait_until([&] { return h.batcher().available(); }, 10s));
  httplib::Client cl("127.0.0.1", h.port());
  std::string run = uuid_v4();
  ASSERT_EQ(cl.Put(("/v1/leases/" + run).c_str(), renew_body("pod-a"), "application/json")->status, 200);

  pg.stop();
  // Heartbeats are refused quickly with 503 while the database is gone.
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = cl.Put(("/v1/leases/" + run).c_str(), renew_body("pod-a"), "application/json");
        return r && r->status == 503;
      },
      10s, 50ms));
  auto t0 = std::chrono::steady_clock::now();
  auto r = cl.Put(("/v1/leases/" + run).c_str(), renew_body("pod-a"), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(json::parse(r->body)["error"], "store_unavailable");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_EQ(cl.Get("/readyz")->status, 503);
  EXPECT_EQ(cl.Get("/healthz")->status, 200);

  pg.start();
  ASSERT_TRUE(wait_until([&] { return cl.Get("/readyz")->status == 200; }, 20s, 50ms));
  auto back = cl.Put(("/v1/leases/" + run).c_str(), renew_body("pod-a", 30, 9), "application/json");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 200);
  EXPECT_EQ(pg.query_value("SELECT seq FROM lifeline_leases", uri.substr(uri.rfind('/') + 1)), "9");
}

}  // namespace
}  // namespace lifeline::reaper::api
