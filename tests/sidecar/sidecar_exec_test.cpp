// Component tests: the built lifeline-sidecar in exec mode against a scripted heartbeat
// endpoint, directly or through a fault-injecting TCP proxy.
// GCC 12 at -O2 reports "potential null pointer dereference" inside Asio's and
// libstdc++'s headers after inlining (false positives; -Werror would fail on them).
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/sidecar/fake_lease_endpoint.hpp"
#include "tests/sidecar/sidecar_process.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;
using Answer = FakeLeaseEndpoint::Answer;

// Short timings: interval 100ms, request timeout 50ms, ttl 2s (margin 1s), kill grace 300ms:
// SIGTERM 700ms after the last acknowledged send, dead by 1s, the reaper acts at 2s.
std::vector<std::string> fast_flags() {
  return {"--interval", "100ms", "--ttl", "2s", "--kill-grace", "300ms"};
}

std::string temp_file(const std::string& name) {
  return ::testing::TempDir() + name + "-" + std::to_string(::getpid());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

TEST(SidecarExec, HeartbeatsRunsTheCommandReleasesAndExitsWithItsStatus) {
  FakeLeaseEndpoint reaper;
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("sleep 0.5; exit 7"), .log_prefix = "exec-status"});
  auto code = sc.process().wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 7);
  auto beats = reaper.heartbeats();
  ASSERT_GE(beats.size(), 3u);
  EXPECT_EQ(beats[0].path, std::string("/v1/leases/") + kTestRunId);
  EXPECT_EQ(beats[0].body["holder"], "test-pod");
  EXPECT_EQ(beats[0].body["node"], "test-node");
  EXPECT_EQ(beats[0].body["ttl_seconds"], 2);
  EXPECT_EQ(beats[0].body["phase"], "running");
  for (std::size_t i = 1; i < beats.size(); ++i) EXPECT_GT(beats[i].body["seq"], beats[i - 1].body["seq"]);
  auto rel = reaper.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].path, std::string("/v1/leases/") + kTestRunId + "/release");
  EXPECT_EQ(rel[0].body, nlohmann::json({{"holder", "test-pod"}, {"outcome", "exited"}, {"exit_code", 7}}));
}

TEST(SidecarExec, TheWorkloadInheritsNoneOfTheSidecarsSockets) {
  FakeLeaseEndpoint reaper;
  std::string out = temp_file("workload-fds");
  // What the workload's shell holds, as /proc shows it: files, pipes, sockets.
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("for f in /proc/$$/fd/*; do echo \"$f $(readlink $f)\"; done > " + out),
                     .log_prefix = "exec-fds"});
  ASSERT_EQ(sc.process().wait_exit(10s), 0);
  const std::string fds = read_file(out);
  EXPECT_NE(fds.find("/fd/0 "), std::string::npos) << fds;
  EXPECT_EQ(fds.find("socket:"), std::string::npos) << fds;
  EXPECT_EQ(fds.find("anon_inode:"), std::string::npos) << fds;  // epoll, eventfd, timerfd
}

TEST(SidecarExec, SendsTheBearerToken) {
  FakeLeaseEndpoint reaper;
  std::string token = temp_file("token");
  std::ofstream(token) << "s3cret\n";
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = {"--interval", "100ms", "--ttl", "2s", "--kill-grace",
                                                           "300ms", "--token-file", token},
                     .command = shell("exit 0"), .log_prefix = "exec-token"});
  EXPECT_EQ(sc.process().wait_exit(10s), 0);
  ASSERT_GE(reaper.heartbeat_count(), 1u);
  EXPECT_EQ(reaper.heartbeats()[0].authorization, "Bearer s3cret");
}

TEST(SidecarExec, CommandThatCannotStartExits127) {
  FakeLeaseEndpoint reaper;
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(), .command = {"/nonexistent/flow"},
                     .log_prefix = "exec-127"});
  EXPECT_EQ(sc.process().wait_exit(10s), 127);
  EXPECT_NE(sc.process().stderr_text().find("cannot start"), std::string::npos);
  auto rel = reaper.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].body["exit_code"], 127);
}

TEST(SidecarExec, WorkloadDiesWithAKilledSidecar) {
  // A SIGKILLed (e.g. OOM-killed) sidecar can fence nothing any more: its child goes too.
  FakeLeaseEndpoint reaper;
  std::string pidfile = temp_file("orphan-pid");
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("echo $$ > " + pidfile + "; exec sleep 60"), .log_prefix = "exec-kill9"});
  ASSERT_TRUE(wait_until([&] { return !read_file(pidfile).empty(); }, 5s));
  pid_t workload = std::stoi(read_file(pidfile));
  sc.process().signal(SIGKILL);
  EXPECT_TRUE(wait_until([&] { return !process_alive(workload); }, 5s));
}

TEST(SidecarExec, StartupErrorsExit2) {
  FakeLeaseEndpoint reaper;
  SidecarProcess bad_id({.reaper_url = reaper.url(), .run_id = "not-a-uuid", .command = shell("true"),
                         .log_prefix = "exec-badid"});
  EXPECT_EQ(bad_id.process().wait_exit(5s), 2);
  EXPECT_NE(bad_id.process().stderr_text().find("not a UUID"), std::string::npos);
  SidecarProcess no_url({.reaper_url = "", .command = shell("true"), .log_prefix = "exec-nourl"});
  EXPECT_EQ(no_url.process().wait_exit(5s), 2);
  EXPECT_NE(no_url.process().stderr_text().find("reaper URL required"), std::string::npos);
  SidecarProcess bad_duration({.reaper_url = reaper.url(), .flags = {"--ttl", "30"}, .command = shell("true"),
                               .log_prefix = "exec-baddur"});
  EXPECT_EQ(bad_duration.process().wait_exit(5s), 2);
  EXPECT_NE(bad_duration.process().stderr_text().find("ttl (from --ttl)"), std::string::npos);
  SidecarProcess unfenceable({.reaper_url = reaper.url(), .flags = {"--interval", "10s", "--ttl", "15s"},
                              .command = shell("true"), .log_prefix = "exec-fence"});
  EXPECT_EQ(unfenceable.process().wait_exit(5s), 2);
  EXPECT_NE(unfenceable.process().stderr_text().find("fencing rule"), std::string::npos);
  EXPECT_EQ(reaper.heartbeat_count(), 0u);
}

TEST(SidecarExec, BlackHoledReaperStopsTheWorkloadBeforeTheLeaseCanExpire) {
  FakeLeaseEndpoint reaper;
  TcpProxy proxy("127.0.0.1", reaper.port());
  std::string pidfile = temp_file("bh-pid");
  SidecarProcess sc({.reaper_url = proxy.url(), .flags = fast_flags(),
                     .command = shell("echo $$ > " + pidfile + "; exec sleep 60"), .log_prefix = "exec-blackhole"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 3 && !read_file(pidfile).empty(); }, 5s));
  pid_t workload = std::stoi(read_file(pidfile));
  // The reaper accepts TCP and never answers; the keep-alive connection is caught too.
  proxy.set_mode(TcpProxy::Mode::black_hole);
  ASSERT_TRUE(wait_until([&] { return !process_alive(workload); }, 10s, 1ms));
  auto dead_at = std::chrono::steady_clock::now();
  // The reaper may act 2s (the TTL) after the last renewal it received; the workload was
  // dead before then, with room for the margin.
  auto last = reaper.last_renewal();
  ASSERT_TRUE(last.has_value());
  EXPECT_LT(dead_at - *last, 1500ms);
  auto code = sc.process().wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 3);
  auto m = sc.process().stderr_text();
  EXPECT_NE(m.find("reason=unreachable"), std::string::npos);
}

// An exec-mode sidecar is the container's main process: without a linger it exits as soon as
// it fenced, and a Prometheus scrape would never see the stop.
TEST(SidecarExec, LingersAfterAFenceServingTheStopOnMetricsUntilSigterm) {
  FakeLeaseEndpoint reaper;
  TcpProxy proxy("127.0.0.1", reaper.port());
  std::string pidfile = temp_file("linger-pid");
  auto flags = fast_flags();
  flags.insert(flags.end(), {"--linger-after-stop", "60s"});
  SidecarProcess sc({.reaper_url = proxy.url(), .flags = flags,
                     .command = shell("echo $$ > " + pidfile + "; exec sleep 60"), .log_prefix = "exec-linger"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 3 && !read_file(pidfile).empty(); }, 5s));
  pid_t workload = std::stoi(read_file(pidfile));
  proxy.set_mode(TcpProxy::Mode::refuse);
  ASSERT_TRUE(wait_until([&] { return !process_alive(workload); }, 10s, 1ms));
  // Fenced, and still up: the stop is on /metrics, /readyz says the lease is gone.
  std::optional<SidecarProcess::HttpAnswer> metrics;
  ASSERT_TRUE(wait_until([&] {
    metrics = sc.get("/metrics");
    return metrics && metrics->body.find("lifeline_sidecar_workload_stops_total{reason=\"unreachable\"} 1") !=
                          std::string::npos;
  }, 5s)) << (metrics ? metrics->body : "no answer");
  ASSERT_TRUE(wait_until([&] { return sc.process().stderr_text().find("until the linger ends") != std::string::npos; },
                         5s));
  EXPECT_TRUE(sc.process().running());
  auto ready = sc.get("/readyz");
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->status, 503);
  // The pod is deleted: SIGTERM ends the linger at once, with the fence's status.
  sc.process().signal(SIGTERM);
  auto code = sc.process().wait_exit(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 3);
}

TEST(SidecarExec, LingerEndsOnItsOwnAfterAStopDirective) {
  FakeLeaseEndpoint reaper;
  auto flags = fast_flags();
  flags.insert(flags.end(), {"--linger-after-stop", "300ms"});
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = flags, .command = shell("exec sleep 60"),
                     .log_prefix = "exec-linger-stop"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  reaper.set_answer(Answer::stop, "run was cancelled");
  EXPECT_EQ(sc.process().wait_exit(10s), 4);
  auto err = sc.process().stderr_text();
  auto lingering = err.find("until the linger ends");
  ASSERT_NE(lingering, std::string::npos) << err;
  EXPECT_NE(err.find("linger_after_stop=300ms", lingering), std::string::npos) << err;
}

TEST(SidecarExec, NoLingerWhenTheWorkloadEndsByItself) {
  FakeLeaseEndpoint reaper;
  auto flags = fast_flags();
  flags.insert(flags.end(), {"--linger-after-stop", "60s"});
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = flags, .command = shell("sleep 0.3; exit 5"),
                     .log_prefix = "exec-no-linger"});
  EXPECT_EQ(sc.process().wait_exit(10s), 5);
  EXPECT_EQ(sc.process().stderr_text().find("until the linger ends"), std::string::npos);
}

TEST(SidecarExec, WorkloadIgnoringSigtermIsKilledAfterTheGrace) {
  FakeLeaseEndpoint reaper;
  TcpProxy proxy("127.0.0.1", reaper.port());
  std::string pidfile = temp_file("stubborn-pid");
  SidecarProcess sc({.reaper_url = proxy.url(), .flags = fast_flags(),
                     .command = shell("trap '' TERM; echo $$ > " + pidfile + "; while :; do sleep 0.05; done"),
                     .log_prefix = "exec-stubborn"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2 && !read_file(pidfile).empty(); }, 5s));
  pid_t workload = std::stoi(read_file(pidfile));
  proxy.set_mode(TcpProxy::Mode::refuse);
  ASSERT_TRUE(wait_until([&] { return !process_alive(workload); }, 10s, 1ms));
  auto dead_at = std::chrono::steady_clock::now();
  auto last = reaper.last_renewal();
  ASSERT_TRUE(last.has_value());
  // SIGTERM at 700ms after the last acknowledged send, ignored; SIGKILL 300ms later. The
  // reaper's last renewal can be one interval (100ms) after that send: a heartbeat that
  // reached it while the proxy cut over and whose answer was lost.
  EXPECT_LT(dead_at - *last, 1500ms);
  EXPECT_GE(dead_at - *last, 800ms);
  auto code = sc.process().wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 3);
  auto err = sc.process().stderr_text();
  EXPECT_NE(err.find("sending SIGKILL"), std::string::npos) << err;
  EXPECT_NE(err.find("exit_code=137"), std::string::npos) << err;
}

TEST(SidecarExec, OneLostHeartbeatNeverStopsTheWorkload) {
  FakeLeaseEndpoint reaper;
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = {"--interval", "200ms", "--ttl", "3s", "--kill-grace", "300ms"},
                     .command = shell("sleep 1.5; exit 0"), .log_prefix = "exec-503"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  reaper.set_answer(Answer::unavailable);
  auto failed = reaper.heartbeat_count();
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= failed + 3; }, 5s));
  reaper.set_answer(Answer::renew);
  EXPECT_EQ(sc.process().wait_exit(10s), 0);
  auto rel = reaper.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].body["outcome"], "exited");
}

TEST(SidecarExec, StopDirectiveStopsTheWorkloadAndExits4) {
  FakeLeaseEndpoint reaper;
  std::string marker = temp_file("stop-marker");
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("trap 'echo term > " + marker + "; exit 143' TERM; while :; do sleep 0.05; done"),
                     .log_prefix = "exec-stop"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  reaper.set_answer(Answer::stop, "run was cancelled");
  EXPECT_EQ(sc.process().wait_exit(10s), 4);
  EXPECT_EQ(read_file(marker), "term\n");
  EXPECT_NE(sc.process().stderr_text().find("run was cancelled"), std::string::npos);
}

TEST(SidecarExec, ConflictBeforeStartNeverRunsTheWorkload) {
  FakeLeaseEndpoint reaper;
  reaper.set_answer(Answer::conflict);
  std::string marker = temp_file("conflict-marker");
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("echo ran > " + marker), .log_prefix = "exec-409"});
  EXPECT_EQ(sc.process().wait_exit(10s), 4);
  EXPECT_EQ(read_file(marker), "");
}

TEST(SidecarExec, SigtermIsAnEvictionTerminatingHeartbeatThenReleaseEvicted) {
  FakeLeaseEndpoint reaper;
  // The workload takes 400ms to shut down; the lease is kept alive meanwhile.
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("trap 'sleep 0.4; exit 5' TERM; while :; do sleep 0.05; done"),
                     .log_prefix = "exec-evict"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  sc.process().signal(SIGTERM);
  EXPECT_EQ(sc.process().wait_exit(10s), 5);
  auto beats = reaper.heartbeats();
  auto first_term = std::find_if(beats.begin(), beats.end(),
                                 [](const auto& c) { return c.body["phase"] == "terminating"; });
  ASSERT_NE(first_term, beats.end());
  EXPECT_GE(std::count_if(first_term, beats.end(), [](const auto& c) { return c.body["phase"] == "terminating"; }), 2);
  auto rel = reaper.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].body["outcome"], "evicted");
  EXPECT_EQ(rel[0].body["exit_code"], 5);
  EXPECT_GT(rel[0].received, first_term->received);
}

TEST(SidecarExec, SigtermWhenTheWorkloadFinishesCleanlyIsAnOrdinaryRelease) {
  FakeLeaseEndpoint reaper;
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("trap 'exit 0' TERM; while :; do sleep 0.05; done"), .log_prefix = "exec-evict0"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  sc.process().signal(SIGTERM);
  EXPECT_EQ(sc.process().wait_exit(10s), 0);
  auto rel = reaper.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].body["outcome"], "exited");
}

TEST(SidecarExec, SigtermDuringANetworkOutageStillEndsPromptly) {
  FakeLeaseEndpoint reaper;
  TcpProxy proxy("127.0.0.1", reaper.port());
  SidecarProcess sc({.reaper_url = proxy.url(), .flags = {"--interval", "200ms", "--ttl", "4s", "--kill-grace", "300ms"},
                     .command = shell("trap 'exit 9' TERM; while :; do sleep 0.05; done"), .log_prefix = "exec-outage"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  proxy.set_mode(TcpProxy::Mode::black_hole);
  auto started = std::chrono::steady_clock::now();
  sc.process().signal(SIGTERM);
  // The workload's own status, not 3: it ended on the eviction before the fence fired.
  EXPECT_EQ(sc.process().wait_exit(10s), 9);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_TRUE(reaper.releases().empty());
  EXPECT_NE(sc.process().stderr_text().find("release failed"), std::string::npos);
}

TEST(SidecarExec, ForwardsSignalsToTheWorkloadGroup) {
  FakeLeaseEndpoint reaper;
  std::string marker = temp_file("signals");
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("trap 'echo hup >> " + marker + "' HUP; trap 'echo usr1 >> " + marker +
                                      "' USR1; trap 'echo usr2 >> " + marker + "' USR2; trap 'exit 3' INT; " +
                                      "echo ready >> " + marker + "; while :; do sleep 0.05; done"),
                     .log_prefix = "exec-signals"});
  ASSERT_TRUE(wait_until([&] { return read_file(marker) == "ready\n"; }, 5s));
  sc.process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return read_file(marker).find("hup") != std::string::npos; }, 5s));
  sc.process().signal(SIGUSR1);
  ASSERT_TRUE(wait_until([&] { return read_file(marker).find("usr1") != std::string::npos; }, 5s));
  sc.process().signal(SIGUSR2);
  ASSERT_TRUE(wait_until([&] { return read_file(marker).find("usr2") != std::string::npos; }, 5s));
  sc.process().signal(SIGINT);
  EXPECT_EQ(sc.process().wait_exit(10s), 3);
}

TEST(SidecarExec, HealthEndpoints) {
  FakeLeaseEndpoint reaper;
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags(),
                     .command = shell("sleep 30"), .log_prefix = "exec-health"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  auto h = sc.get("/healthz");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->status, 200);
  ASSERT_TRUE(wait_until([&] { auto r = sc.get("/readyz"); return r && r->status == 200; }, 5s));
  auto st = sc.get("/status");
  ASSERT_TRUE(st.has_value());
  auto j = nlohmann::json::parse(st->body);
  EXPECT_EQ(j["run_id"], kTestRunId);
  EXPECT_EQ(j["lease_state"], "held");
  EXPECT_EQ(j["fencing"], "on");
  EXPECT_TRUE(j["workload_pid"].is_number());
  EXPECT_EQ(j["epoch"], 1);
  auto m = sc.get("/metrics");
  ASSERT_TRUE(m.has_value());
  EXPECT_NE(m->body.find("lifeline_sidecar_heartbeats_total{result=\"ok\"}"), std::string::npos);
  EXPECT_NE(m->body.find("lifeline_sidecar_lease_ttl_seconds 2"), std::string::npos);
  sc.process().signal(SIGTERM);
  sc.process().wait_exit(10s);
}

TEST(SidecarExec, ContinueModeKeepsTheWorkloadAndSaysFencingIsOff) {
  FakeLeaseEndpoint reaper;
  TcpProxy proxy("127.0.0.1", reaper.port());
  SidecarProcess sc({.reaper_url = proxy.url(),
                     .flags = {"--interval", "100ms", "--ttl", "1s", "--kill-grace", "300ms", "--on-unreachable", "continue"},
                     .command = shell("sleep 30"), .log_prefix = "exec-continue"});
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  proxy.set_mode(TcpProxy::Mode::refuse);
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("LEASE LAPSING"), 5s, true).has_value());
  EXPECT_TRUE(sc.process().running());
  auto st = sc.get("/status");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(nlohmann::json::parse(st->body)["fencing"], "off");
  // The lease is not held any more: not ready.
  ASSERT_TRUE(wait_until([&] { auto r = sc.get("/readyz"); return r && r->status == 503; }, 5s));
  sc.process().signal(SIGTERM);
  EXPECT_EQ(sc.process().wait_exit(10s), 143);
}

}  // namespace
}  // namespace lifeline::testing
