#include "tests/faults/soak/partition_scenario.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "tests/faults/soak/partition_trial.hpp"
#include "tests/faults/soak/run_diagnosis.hpp"
#include "tests/faults/soak/run_facts.hpp"
#include "tests/faults/soak/stats.hpp"

namespace lifeline::faults {

namespace {

std::vector<TrialPlan> plan_trials(const Options& options) {
  const PartitionPlan& p = options.partitions;
  std::mt19937_64 rng(options.seed ^ 0x9e3779b97f4a7c15ULL);
  std::uniform_real_distribution<double> phase(0.0, p.pod.interval_s.count());
  // Heal partitions always span at least one heartbeat (longer than the interval) and end
  // a little before the survivable limit.
  const double longest = survivable_partition(p.pod).count() - 0.2;
  std::uniform_real_distribution<double> length(p.pod.interval_s.count() + 0.1, std::max(longest, p.pod.interval_s.count() + 0.2));
  std::vector<TrialPlan> trials;
  for (int i = 0; i < p.fence_trials + p.heal_trials; ++i) {
    TrialPlan t;
    t.index = i;
    t.heal = i >= p.fence_trials;
    t.ignores_sigterm = !t.heal && i % 2 == 1;
    t.phase = Seconds{phase(rng)};
    if (t.heal) t.partition = Seconds{length(rng)};
    trials.push_back(t);
  }
  // Heal and fence trials share batches, so a healing pod sits next to fenced ones.
  std::shuffle(trials.begin(), trials.end(), rng);
  return trials;
}

struct Examples {
  std::size_t count = 0;
  std::string text;
  void add(const TrialResult& r, const std::string& why) {
    if (++count > 3) return;
    text += (text.empty() ? "" : "; ") + std::string("trial ") + std::to_string(r.plan.index) + " run " +
            r.run_id.substr(0, 8) + ": " + why + " [log " + r.sidecar_log + "]";
  }
  std::string suffix() const { return count == 0 ? "" : " -- e.g. " + text; }
};

std::string ratio(std::size_t good, std::size_t all) { return std::to_string(good) + "/" + std::to_string(all); }

}  // namespace

void run_partitions(TestBed& bed, const Options& options, Report& report) {
  const PartitionPlan& p = options.partitions;
  const auto trials = plan_trials(options);
  report.note("partitions: " + std::to_string(p.fence_trials) + " fence trials (half with a workload ignoring SIGTERM), " +
              std::to_string(p.heal_trials) + " heal trials (black hole of " + fixed(p.pod.interval_s.count() + 0.1, 1) +
              " to " + fixed(survivable_partition(p.pod).count() - 0.2, 1) + " s), " + std::to_string(p.parallel) +
              " at a time; sidecar interval " + p.pod.interval + " ttl " + p.pod.ttl + " kill_grace " +
              p.pod.kill_grace + ", reaper interval " + options.reaper_interval);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<TrialResult> results(trials.size());
  for (std::size_t from = 0; from < trials.size(); from += static_cast<std::size_t>(p.parallel)) {
    const std::size_t to = std::min(trials.size(), from + static_cast<std::size_t>(p.parallel));
    std::vector<std::jthread> batch;
    for (std::size_t i = from; i < to; ++i)
      batch.emplace_back([&, i] { results[i] = run_partition_trial(bed, p, trials[i]); });
    batch.clear();  // joins
    report.note("partitions: " + std::to_string(to) + "/" + std::to_string(trials.size()) + " trials done after " +
                fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1) + " s");
  }

  Examples harness, fenced_late, expiry_late, not_once, heal_bad;
  std::size_t fence_n = 0, heal_n = 0, before_crash = 0, before_expiry = 0, once = 0, heal_ok = 0;
  std::vector<double> margin_crash, margin_crash_kill, margin_expiry, fence_time;
  const char* resolution = "";
  std::vector<const TrialResult*> failed;
  for (const auto& r : results) {
    bool passed = true;
    if (!r.problem.empty()) {
      harness.add(r, r.problem);
      passed = false;
    } else if (!r.plan.heal) {
      ++fence_n;
      resolution = r.death_resolution;
      if (r.workload_dead_at && r.partitioned_at) fence_time.push_back(seconds_between(*r.partitioned_at, *r.workload_dead_at));
      if (r.workload_dead_at && r.crashed_at) {
        const double m = seconds_between(*r.workload_dead_at, *r.crashed_at);
        margin_crash.push_back(m);
        if (r.plan.ignores_sigterm) margin_crash_kill.push_back(m);
        if (m > 0) ++before_crash;
        else fenced_late.add(r, "margin " + fixed(m) + " s");
      } else {
        fenced_late.add(r, std::string(r.workload_dead_at ? "" : "workload never died; ") +
                               (r.crashed_at ? "" : "run never Crashed"));
      }
      if (r.workload_dead_at && r.lease_expires_at) {
        const double m = seconds_between(*r.workload_dead_at, *r.lease_expires_at);
        margin_expiry.push_back(m);
        if (m > 0) ++before_expiry;
        else expiry_late.add(r, "margin " + fixed(m) + " s");
      } else {
        expiry_late.add(r, "no death or no lease expiry time");
      }
      if (r.crashed == 1 && r.awaiting_retry == 1 && r.sidecar_exit == 3) ++once;
      else not_once.add(r, std::to_string(r.crashed) + " CRASHED, " + std::to_string(r.awaiting_retry) +
                               " AwaitingRetry, sidecar exit " + (r.sidecar_exit ? std::to_string(*r.sidecar_exit) : "none"));
      passed = r.workload_dead_at && r.crashed_at && *r.workload_dead_at < *r.crashed_at && r.lease_expires_at &&
               *r.workload_dead_at < *r.lease_expires_at && r.crashed == 1 && r.awaiting_retry == 1 && r.sidecar_exit == 3;
    } else {
      ++heal_n;
      const bool ok = r.crashed == 0 && r.workload_alive_after && r.ready_after && r.lease_state_after == "active" &&
                      r.epoch_after == 1;
      if (ok) ++heal_ok;
      else heal_bad.add(r, "partition " + fixed(r.plan.partition.count(), 2) + " s: " + std::to_string(r.crashed) +
                               " CRASHED, workload " + (r.workload_alive_after ? "alive" : "dead") + ", ready " +
                               (r.ready_after ? "yes" : "no") + ", lease " + r.lease_state_after + " epoch " +
                               std::to_string(r.epoch_after));
      passed = ok;
    }
    if (passed && !r.sidecar_log.empty()) ::unlink(r.sidecar_log.c_str());
    if (!passed && !r.run_id.empty()) failed.push_back(&r);
  }
  // The first few failures explained in the output itself (the logs are temporary).
  for (std::size_t i = 0; i < std::min<std::size_t>(failed.size(), 3); ++i) {
    report.note("partitions: trial " + std::to_string(failed[i]->plan.index) + " failed; run " + failed[i]->run_id +
                " as the reapers and the fake Prefect saw it:");
    for (const auto& line : diagnose_run(bed, failed[i]->run_id)) report.note("  " + line);
  }

  const Summary mc = summarize(margin_crash);
  const Summary mk = summarize(margin_crash_kill);
  const Summary me = summarize(margin_expiry);
  const Summary ft = summarize(fence_time);
  report.check("partitions.trials_ran", harness.count == 0,
               ratio(results.size() - harness.count, results.size()) + " trials carried out" + harness.suffix());
  report.check("partitions.dead_before_crashed", before_crash == fence_n && fence_n > 0,
               ratio(before_crash, fence_n) + " fenced workloads dead before their run was Crashed; margin " +
                   describe_seconds(mc) + "; SIGTERM-ignoring workloads (killed after kill_grace): " +
                   describe_seconds(mk) + fenced_late.suffix());
  report.check("partitions.dead_before_lease_expiry", before_expiry == fence_n && fence_n > 0,
               ratio(before_expiry, fence_n) + " dead before the lease's expires_at; margin " + describe_seconds(me) +
                   expiry_late.suffix());
  report.check("partitions.crashed_once", once == fence_n && fence_n > 0,
               ratio(once, fence_n) + " fenced runs with one CRASHED, one AwaitingRetry, sidecar exit 3" +
                   not_once.suffix());
  report.check("partitions.healed_left_alone", heal_ok == heal_n && heal_n > 0,
               ratio(heal_ok, heal_n) + " healed runs never Crashed, workload alive, sidecar ready, lease active at epoch 1" +
                   heal_bad.suffix());
  report.figure("partitions.fence_time", "partition to workload death: " + describe_seconds(ft) +
                                             "; death stamped by " + resolution +
                                             "; Crashed stamped by the fake Prefect when it accepted the state (us)");
  report.result("partitions", {{"fence_trials", std::to_string(fence_n)},
                               {"heal_trials", std::to_string(heal_n)},
                               {"dead_before_crashed", std::to_string(before_crash)},
                               {"margin_min_s", fixed(mc.min)},
                               {"margin_p50_s", fixed(mc.p50)},
                               {"margin_max_s", fixed(mc.max)},
                               {"margin_sigkill_min_s", fixed(mk.min)},
                               {"expiry_margin_min_s", fixed(me.min)},
                               {"healed_left_alone", std::to_string(heal_ok)},
                               {"wall_s", fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1)}});
}

}  // namespace lifeline::faults
