#include "tests/faults/soak/partition_trial.hpp"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "tests/e2e/processes.hpp"
#include "tests/faults/soak/exit_watch.hpp"
#include "tests/faults/soak/run_facts.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::faults {

using namespace std::chrono_literals;
using fake_prefect::Json;
using testing::TcpProxy;
using testing::wait_until;

namespace {

std::chrono::milliseconds ms(Seconds s) { return std::chrono::duration_cast<std::chrono::milliseconds>(s); }

// The sidecar's fencing arithmetic (docs/sidecar.md): margin = max(1 s, 5 % of the TTL),
// request timeout = interval / 2 clamped to 50 ms .. 5 s.
Seconds fencing_margin(const PodTiming& pod) { return std::max(Seconds{1}, pod.ttl_s * 0.05); }
Seconds request_timeout(const PodTiming& pod) {
  return std::clamp(pod.interval_s / 2, Seconds{0.05}, Seconds{5});
}

void fence(TestBed& bed, const PartitionPlan& plan, testing::SidecarPod& pod, ExitWatch& watch,
           std::uint16_t reaper_port, TrialResult& r) {
  const auto ttl = ms(plan.pod.ttl_s);
  r.workload_dead_at = watch.wait(ttl + 5s);
  // The run's Crashed state, then its reschedule: the reaper acts on its own after the TTL.
  RunFacts f;
  wait_until(
      [&] {
        f = run_facts(bed.fake(), r.run_id);
        return f.crashed >= 1 && f.awaiting_retry_now();
      },
      ttl + 20s, 50ms);
  r.crashed = f.crashed;
  r.awaiting_retry = f.awaiting_retry;
  r.crashed_at = f.first_crash;
  r.sidecar_exit = pod.sidecar().wait_exit(10s);
  if (auto lease = lease_of_holder(reaper_port, pod.settings().holder)) r.lease_expires_at = lease->expires_at;
}

void heal(TestBed& bed, const PartitionPlan& plan, TcpProxy& proxy, testing::SidecarPod& pod, ExitWatch& watch,
          std::uint16_t reaper_port, TrialResult& r) {
  std::this_thread::sleep_for(r.plan.partition);  // the partition's length is the trial's parameter (ok)
  proxy.set_mode(TcpProxy::Mode::forward);
  // Long enough for the sidecar's fence (at most ttl - margin after the last ack) and for
  // the reaper's expiry (ttl after the last renewal) to have passed had the lease lapsed.
  r.workload_dead_at = watch.wait(ms(plan.pod.ttl_s) + 1s);
  r.workload_alive_after = !r.workload_dead_at;
  r.ready_after = pod.wait_ready(3s);
  const RunFacts f = run_facts(bed.fake(), r.run_id);
  r.crashed = f.crashed;
  r.awaiting_retry = f.awaiting_retry;
  if (auto lease = lease_of_holder(reaper_port, pod.settings().holder)) {
    r.lease_state_after = lease->state;
    r.epoch_after = lease->epoch;
  }
  // Done: the flow finishes (Completed), so the lease the pod leaves behind when it is
  // torn down is found terminal by the reaper and skipped.
  bed.fake().set_flow_run_state(r.run_id, Json{{"type", "COMPLETED"}, {"name", "Completed"}});
}

}  // namespace

Seconds survivable_partition(const PodTiming& pod) {
  return pod.ttl_s - fencing_margin(pod) - pod.kill_grace_s - pod.interval_s - request_timeout(pod);
}

TrialResult run_partition_trial(TestBed& bed, const PartitionPlan& plan, const TrialPlan& trial) {
  TrialResult r;
  r.plan = trial;
  try {
    auto& reaper = bed.reaper_for(static_cast<std::size_t>(trial.index));
    TcpProxy proxy("127.0.0.1", reaper.port());
    r.run_id = bed.create_running_run();
    testing::SidecarPod::Settings s;
    s.run_id = r.run_id;
    s.reaper_url = proxy.url();
    s.holder = "partition-" + r.run_id.substr(0, 8) + "-t" + std::to_string(trial.index);
    s.node = "node-p" + std::to_string(trial.index % 10);
    s.interval = plan.pod.interval;
    s.ttl = plan.pod.ttl;
    s.kill_grace = plan.pod.kill_grace;
    s.workload = trial.ignores_sigterm ? "trap '' TERM; exec sleep 600" : "exec sleep 600";
    testing::SidecarPod pod(s);
    if (!pod.wait_ready(15s)) {
      r.problem = "sidecar not ready within 15 s";
      return r;
    }
    pid_t workload = -1;
    wait_until([&] { return (workload = pod.workload_pid()) > 0; }, 5s, 2ms);
    if (workload <= 0) {
      r.problem = "no workload pid";
      return r;
    }
    ExitWatch watch(workload);
    r.death_resolution = watch.resolution();
    std::this_thread::sleep_for(trial.phase);  // places the partition in the heartbeat cycle (ok)
    if (watch.exited()) {
      r.problem = "workload died before the partition";
      return r;
    }
    r.partitioned_at = std::chrono::system_clock::now();
    proxy.set_mode(TcpProxy::Mode::black_hole);
    if (trial.heal) heal(bed, plan, proxy, pod, watch, reaper.port(), r);
    else fence(bed, plan, pod, watch, reaper.port(), r);
    ::unlink(pod.sidecar().stdout_path().c_str());
    r.sidecar_log = pod.sidecar().stderr_path();
  } catch (const std::exception& e) {
    r.problem = std::string("trial failed: ") + e.what();
  }
  return r;
}

}  // namespace lifeline::faults
