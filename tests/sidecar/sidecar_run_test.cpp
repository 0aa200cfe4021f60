// Component tests of run mode (watching a workload that is not our child) and of the
// /proc scanning and child reaping it relies on.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sidecar/workload/child_reaper.hpp"
#include "sidecar/workload/proc_scan.hpp"
#include "tests/sidecar/fake_lease_endpoint.hpp"
#include "tests/sidecar/sidecar_process.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;
using sidecar::TargetSpec;

std::vector<std::string> fast_flags(std::vector<std::string> extra) {
  std::vector<std::string> f = {"--interval", "100ms", "--ttl", "2s", "--kill-grace", "300ms"};
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

// Run-mode settings for a sidecar watching `workload` by pid.
SidecarProcess::Settings watching(const FakeLeaseEndpoint& reaper, const Subprocess& workload, std::string prefix,
                                  std::vector<std::string> extra = {}) {
  extra.insert(extra.begin(), {"--target", "pid:" + std::to_string(workload.pid())});
  return {.verb = "run", .reaper_url = reaper.url(), .flags = fast_flags(std::move(extra)), .log_prefix = std::move(prefix)};
}

// A `sleep` whose comm is `name` (comm comes from the executed file's name).
std::string named_sleep(const std::string& name) {
  auto path = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove(path);
  std::filesystem::create_symlink("/bin/sleep", path);
  return path.string();
}

Subprocess::Options proc(std::vector<std::string> argv, std::string prefix) {
  Subprocess::Options o;
  o.argv = std::move(argv);
  o.log_prefix = std::move(prefix);
  return o;
}

bool unshare_works() {
  static int works = -1;
  if (works < 0) works = std::system("unshare -pf --mount-proc true >/dev/null 2>&1") == 0 ? 1 : 0;
  return works == 1;
}

TEST(ProcScan, FindsByPidAndName) {
  std::string exe = named_sleep("lls-scan-a");
  Subprocess p(proc({exe, "30"}, "scan-a"));
  ASSERT_TRUE(wait_until([&] { return !sidecar::find_targets({TargetSpec::Kind::name, 0, "lls-scan-a"}, "/proc", ::getpid()).empty(); }, 5s));
  auto by_name = sidecar::find_targets({TargetSpec::Kind::name, 0, "lls-scan-a"}, "/proc", ::getpid());
  ASSERT_EQ(by_name.size(), 1u);
  EXPECT_EQ(by_name[0].pid, p.pid());
  auto by_pid = sidecar::find_targets({TargetSpec::Kind::pid, p.pid(), ""}, "/proc", ::getpid());
  ASSERT_EQ(by_pid.size(), 1u);
  EXPECT_EQ(by_pid[0].comm, "lls-scan-a");
  EXPECT_GT(by_pid[0].start_time, 0u);
  // auto never includes the caller.
  for (const auto& i : sidecar::find_targets({}, "/proc", ::getpid())) EXPECT_NE(i.pid, ::getpid());
}

TEST(ProcScan, ZombieShowsItsExitStatus) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(42);
  ASSERT_TRUE(wait_until([&] { auto i = sidecar::read_proc("/proc", child); return i && i->state == 'Z'; }, 5s));
  auto info = sidecar::read_proc("/proc", child);
  ASSERT_TRUE(info && info->exit_code);
  EXPECT_EQ(WEXITSTATUS(*info->exit_code), 42);
  int st = 0;
  ::waitpid(child, &st, 0);
}

TEST(ChildReaper, ReapsTheChildAndOrphansWithoutBlocking) {
  pid_t a = ::fork();
  if (a == 0) ::_exit(3);
  pid_t b = ::fork();
  if (b == 0) ::_exit(4);
  int reaped_orphans = 0;
  std::optional<int> status;
  ASSERT_TRUE(wait_until([&] {
    auto r = sidecar::reap_children(a, /*reap_all=*/true);
    reaped_orphans += r.orphans_reaped;
    if (r.child_status) status = r.child_status;
    return status.has_value() && reaped_orphans >= 1;
  }, 5s));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_FALSE(sidecar::read_proc("/proc", b).has_value());  // no zombie left behind
  // Nothing left: returns at once.
  auto r = sidecar::reap_children(a, true);
  EXPECT_FALSE(r.child_status.has_value());
}

TEST(SidecarRun, WatchesAPidUntilItExitsThenReleasesAndExits0) {
  FakeLeaseEndpoint reaper;
  Subprocess workload(proc({"/bin/sleep", "30"}, "run-pid-wl"));
  SidecarProcess sc(watching(reaper, workload, "run-pid"));
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("workload found"), 5s, true).has_value());
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  EXPECT_TRUE(sc.process().running());
  workload.signal(SIGKILL);
  EXPECT_EQ(sc.process().wait_exit(10s), 0);
  auto rel = reaper.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].body["outcome"], "exited");
}

// A native sidecar that exits before the kubelet has seen the workload's container end is
// restarted: with --await-sigterm it releases the lease, then stays up (not heartbeating)
// until the kubelet's SIGTERM.
TEST(SidecarRun, AwaitSigtermKeepsItUpAfterTheReleaseUntilSigterm) {
  FakeLeaseEndpoint reaper;
  Subprocess workload(proc({"/bin/sleep", "30"}, "run-await-wl"));
  SidecarProcess sc(watching(reaper, workload, "run-await", {"--await-sigterm", "60s"}));
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("workload found"), 5s, true).has_value());
  workload.signal(SIGKILL);
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("waiting for SIGTERM"), 5s, true).has_value());
  auto rel = reaper.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].body["outcome"], "exited");
  std::size_t beats = reaper.heartbeat_count();
  // Five heartbeat intervals: it stays up and heartbeats no more.
  EXPECT_FALSE(wait_until([&] { return !sc.process().running() || reaper.heartbeat_count() > beats; }, 500ms));
  sc.process().signal(SIGTERM);
  EXPECT_EQ(sc.process().wait_exit(5s), 0);
  EXPECT_EQ(reaper.releases().size(), 1u);
  EXPECT_EQ(sc.process().stderr_text().find("exiting anyway"), std::string::npos);
}

TEST(SidecarRun, AwaitSigtermEndsAtItsBoundAndKeepsTheStatus) {
  FakeLeaseEndpoint reaper;
  Subprocess workload(proc({"/bin/sleep", "60"}, "run-await-stop-wl"));
  SidecarProcess sc(watching(reaper, workload, "run-await-stop", {"--await-sigterm", "300ms"}));
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("workload found"), 5s, true).has_value());
  reaper.set_answer(FakeLeaseEndpoint::Answer::stop, "another actor crashed the run");
  EXPECT_EQ(sc.process().wait_exit(10s), 4);
  EXPECT_EQ(workload.wait_exit(5s), 128 + SIGTERM);
  std::string err = sc.process().stderr_text();
  auto waiting = err.find("waiting for SIGTERM");
  ASSERT_NE(waiting, std::string::npos) << err;
  EXPECT_NE(err.find("no SIGTERM within --await-sigterm", waiting), std::string::npos) << err;
}

TEST(SidecarRun, WaitsForANamedWorkloadToAppear) {
  FakeLeaseEndpoint reaper;
  std::string exe = named_sleep("lls-run-name");
  SidecarProcess sc({.verb = "run", .reaper_url = reaper.url(), .flags = fast_flags({"--target", "name:lls-run-name"}),
                     .log_prefix = "run-name"});
  // Heartbeats start before the workload exists (a native sidecar starts first).
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  Subprocess workload(proc({exe, "0.5"}, "run-name-wl"));
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("workload found"), 5s, true).has_value());
  EXPECT_EQ(sc.process().wait_exit(10s), 0);
  EXPECT_EQ(reaper.releases().size(), 1u);
}

TEST(SidecarRun, StartTimeoutIsAClearError) {
  FakeLeaseEndpoint reaper;
  SidecarProcess sc({.verb = "run", .reaper_url = reaper.url(),
                     .flags = fast_flags({"--target", "name:lls-never-there", "--start-timeout", "300ms"}),
                     .log_prefix = "run-timeout"});
  EXPECT_EQ(sc.process().wait_exit(10s), 2);
  EXPECT_NE(sc.process().stderr_text().find("workload did not appear in time"), std::string::npos);
}

TEST(SidecarRun, BlackHoledReaperStopsAWorkloadItDidNotStart) {
  FakeLeaseEndpoint reaper;
  Subprocess workload(proc({"/bin/sleep", "60"}, "run-bh-wl"));
  SidecarProcess sc(watching(reaper, workload, "run-bh"));
  ASSERT_TRUE(wait_until([&] { return reaper.heartbeat_count() >= 2; }, 5s));
  reaper.set_answer(FakeLeaseEndpoint::Answer::hang);
  EXPECT_EQ(sc.process().wait_exit(10s), 3);
  EXPECT_EQ(workload.wait_exit(5s), 128 + SIGTERM);
}

TEST(SidecarRun, StopDirectiveExits4) {
  FakeLeaseEndpoint reaper;
  Subprocess workload(proc({"/bin/sleep", "60"}, "run-stop-wl"));
  SidecarProcess sc(watching(reaper, workload, "run-stop"));
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("workload found"), 5s, true).has_value());
  reaper.set_answer(FakeLeaseEndpoint::Answer::stop, "another actor crashed the run");
  EXPECT_EQ(sc.process().wait_exit(10s), 4);
  EXPECT_EQ(workload.wait_exit(5s), 128 + SIGTERM);
}

TEST(SidecarRun, SigtermWhileTheWorkloadRunsIsAnEviction) {
  FakeLeaseEndpoint reaper;
  Subprocess workload(proc({"/bin/sleep", "60"}, "run-evict-wl"));
  SidecarProcess sc(watching(reaper, workload, "run-evict"));
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("workload found"), 5s, true).has_value());
  sc.process().signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] {
    for (auto& b : reaper.heartbeats()) if (b.body["phase"] == "terminating") return true;
    return false;
  }, 5s));
  EXPECT_TRUE(sc.process().running());  // keeps the lease while the workload shuts down
  workload.signal(SIGTERM);             // the kubelet's SIGTERM to the workload container
  EXPECT_EQ(sc.process().wait_exit(10s), 0);
  auto rel = reaper.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].body["outcome"], "evicted");
}

TEST(SidecarRun, AutoTargetInAPidNamespace) {
  if (!unshare_works()) GTEST_SKIP() << "unshare -p not permitted here";
  FakeLeaseEndpoint reaper;
  // The sidecar is PID 1 of a new namespace; auto finds the one other process.
  SidecarProcess sc({.verb = "run", .reaper_url = reaper.url(), .flags = fast_flags({"--target", "auto"}),
                     .wrapper = {"/usr/bin/unshare", "-pf", "--mount-proc", "/bin/sh", "-c", "sleep 0.7 & exec \"$0\" \"$@\""},
                     .log_prefix = "run-auto"});
  ASSERT_TRUE(sc.process().wait_for_output(std::regex("workload found.*pids=(\\d+)"), 5s, true).has_value());
  EXPECT_EQ(sc.process().wait_exit(10s), 0);
  EXPECT_EQ(reaper.releases().size(), 1u);
  EXPECT_EQ(reaper.releases()[0].body["exit_code"], 0);
}

TEST(SidecarExecPid1, ReapsOrphanedZombies) {
  if (!unshare_works()) GTEST_SKIP() << "unshare -p not permitted here";
  FakeLeaseEndpoint reaper;
  // The workload orphans a short sleep (re-parented to PID 1, the sidecar), then checks
  // that no zombie is left in the namespace: its exit status is the verdict.
  std::string script =
      "(sleep 0.1 &); sleep 0.6; "
      "for s in /proc/[0-9]*/stat; do read -r line < $s 2>/dev/null || continue; "
      "case \"$line\" in *') Z '*) exit 9;; esac; done; exit 0";
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = fast_flags({}), .command = shell(script),
                     .wrapper = {"/usr/bin/unshare", "-pf", "--mount-proc"}, .log_prefix = "exec-pid1"});
  EXPECT_EQ(sc.process().wait_exit(10s), 0);
}

}  // namespace
}  // namespace lifeline::testing
