#include "tests/faults/soak/soak_verdicts.hpp"

#include <map>
#include <sstream>
#include <string>

#include "tests/faults/soak/run_facts.hpp"
#include "tests/faults/soak/stats.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::faults {

using namespace std::chrono_literals;
using testing::wait_until;

namespace {

// Up to three examples of what failed, with the run and where its sidecar's log is.
struct Examples {
  std::size_t count = 0;
  std::string text;
  void add(const PodRecord& r, const std::string& why) {
    if (++count > 3) return;
    text += (text.empty() ? "" : "; ") + r.run_id.substr(0, 8) + " (" + fate_name(r.fate) + "): " + why;
    if (!r.problem.empty() && !r.log_paths.empty()) text += " [log " + r.log_paths + "]";
  }
  std::string suffix() const { return count == 0 ? "" : " -- e.g. " + text; }
};

std::string ratio(std::size_t good, std::size_t all) { return std::to_string(good) + "/" + std::to_string(all); }

// The reaper checks exit-0 releases against Prefect `completion_grace` after the release.
// Wait until it has checked every one, so a healthy run it would wrongly crash as
// `incomplete` is seen here rather than after the soak.
std::size_t wait_for_completion_checks(TestBed& bed, std::size_t expected, Seconds grace) {
  std::size_t checked = 0;
  wait_until(
      [&] {
        checked = std::stoul(bed.query_value("SELECT count(*) FROM lifeline_completion_checks"));
        return checked >= expected;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(grace) + 30s, 200ms);
  return checked;
}

// Every lease row, from the reapers' own table in one query (the lease API lists at most
// 1,000 rows and has no index on holder; a long soak leaves 12,600 leases).
std::map<std::string, LeaseFacts> all_leases(TestBed& bed) {
  const std::string text = bed.query_value(
      "SELECT coalesce(string_agg(run_id::text || ' ' || state || ' ' || coalesce(release_outcome, '-') || ' ' || "
      "coalesce(exit_code::text, '-') || ' ' || epoch::text, ','), '') FROM lifeline_leases");
  std::map<std::string, LeaseFacts> out;
  std::istringstream rows(text);
  std::string row;
  while (std::getline(rows, row, ',')) {
    std::istringstream fields(row);
    std::string run, exit_code;
    LeaseFacts l;
    fields >> run >> l.state >> l.release_outcome >> exit_code >> l.epoch;
    if (l.release_outcome == "-") l.release_outcome.clear();
    if (exit_code != "-") l.exit_code = std::stoi(exit_code);
    out[run] = l;
  }
  return out;
}

}  // namespace

void judge_soak(TestBed& bed, const Options& options, const std::vector<PodRecord>& records, const SoakTotals& totals,
                Report& report) {
  const SoakPlan& plan = options.soak;
  std::size_t healthy = 0, killed = 0, evicted = 0, exit0_releases = 0, late_completions = 0;
  for (const auto& r : records) {
    if (!r.workload_started) continue;
    if (r.fate == Fate::healthy) ++healthy;
    if (r.fate == Fate::killed && r.struck_at) ++killed;
    if (r.fate == Fate::evicted && r.struck_at) ++evicted;
    if (r.fate == Fate::healthy && r.sidecar_exit == 0) ++exit0_releases;
    if (r.completion_late) ++late_completions;
  }
  const std::size_t checked = wait_for_completion_checks(bed, exit0_releases, options.completion_grace_s);

  const auto leases = all_leases(bed);
  Examples harness, healthy_crashed, lease_lost, killed_bad, evicted_bad;
  std::size_t healthy_ok = 0, lease_ok = 0, killed_ok = 0, evicted_ok = 0;
  std::vector<double> detection, eviction;
  for (const auto& r : records) {
    if (!r.problem.empty()) harness.add(r, r.problem);
    if (!r.workload_started) continue;
    const RunFacts f = run_facts(bed.fake(), r.run_id);
    if (r.fate == Fate::healthy) {
      if (f.crashed == 0) ++healthy_ok;
      else healthy_crashed.add(r, std::to_string(f.crashed) + " CRASHED states");
      const auto lease_it = leases.find(r.run_id);
      const LeaseFacts* lease = lease_it == leases.end() ? nullptr : &lease_it->second;
      const bool lease_released = lease && lease->state == "released" && lease->release_outcome == "exited" &&
                                  lease->exit_code == 0 && lease->epoch == 1;
      if (r.sidecar_exit == 0 && lease_released && f.completed_now()) {
        ++lease_ok;
      } else {
        std::string why = "sidecar exit " + (r.sidecar_exit ? std::to_string(*r.sidecar_exit) : std::string("?")) +
                          ", lease " + (lease ? lease->state + "/" + lease->release_outcome + " epoch " +
                                                    std::to_string(lease->epoch)
                                              : std::string("not found")) +
                          ", run " + f.type;
        lease_lost.add(r, why);
      }
      continue;
    }
    if (!r.struck_at) continue;  // its fault never happened: counted as a harness problem
    const bool once = f.crashed == 1 && f.awaiting_retry == 1 && f.awaiting_retry_now();
    auto& bad = r.fate == Fate::killed ? killed_bad : evicted_bad;
    if (once) {
      ++(r.fate == Fate::killed ? killed_ok : evicted_ok);
    } else {
      bad.add(r, std::to_string(f.crashed) + " CRASHED, " + std::to_string(f.awaiting_retry) + " AwaitingRetry, now " +
                     f.type + "/" + f.name);
    }
    if (f.first_crash) {
      const double d = seconds_between(*r.struck_at, *f.first_crash);
      (r.fate == Fate::killed ? detection : eviction).push_back(d);
    }
  }

  const double crashed_by_reapers = bed.reaper_counter_sum("lifeline_reaper_reaps_total", {"outcome=\"crashed\""});
  const double stop_answers = bed.reaper_counter_sum("lifeline_reaper_heartbeats_total", {"result=\"stop\""});
  const std::string not_completed = bed.query_value(
      "SELECT count(*) FROM lifeline_completion_checks WHERE state_type <> 'COMPLETED'");

  const double rate = totals.arrival_window.count() > 0 ? static_cast<double>(totals.arrived) / totals.arrival_window.count() : 0;
  const double starved_share = totals.wall.count() > 0 ? totals.starved.count() / totals.wall.count() : 0;
  const Summary det = summarize(detection);
  const Summary evi = summarize(eviction);

  report.check("soak.every_pod_ran", harness.count == 0 && !totals.timed_out,
               ratio(records.size() - harness.count, records.size()) +
                   " pods started their workload and met their fate as planned" +
                   (totals.timed_out ? " (the soak hit its deadline)" : "") + harness.suffix());
  report.check("soak.arrival_rate", rate >= 0.9 * plan.starts_per_second,
               fixed(rate, 2) + " starts/s achieved of " + fixed(plan.starts_per_second, 1) + " planned (" +
                   std::to_string(totals.arrived) + " runs in " + fixed(totals.arrival_window.count(), 1) +
                   " s; latest start " + fixed(totals.max_arrival_lag_s, 3) + " s behind schedule)");
  report.check("soak.killed_crashed_once", killed_ok == killed && killed > 0,
               ratio(killed_ok, killed) + " killed runs with exactly one CRASHED and one AwaitingRetry" +
                   killed_bad.suffix());
  report.check("soak.evicted_crashed_once", evicted_ok == evicted && evicted > 0,
               ratio(evicted_ok, evicted) + " evicted runs with exactly one CRASHED and one AwaitingRetry" +
                   evicted_bad.suffix());
  report.check("soak.healthy_never_crashed", healthy_ok == healthy && healthy > 0,
               ratio(healthy_ok, healthy) + " healthy runs with no CRASHED state" + healthy_crashed.suffix());
  report.check("soak.no_lease_lost", lease_ok == healthy && healthy > 0,
               ratio(lease_ok, healthy) +
                   " healthy runs: sidecar exit 0, lease released (exited, code 0) at epoch 1, run COMPLETED" +
                   lease_lost.suffix());
  report.check("soak.reaper_crashes_match", static_cast<std::size_t>(crashed_by_reapers) == killed + evicted,
               fixed(crashed_by_reapers, 0) + " reaps_total{outcome=crashed} over the replicas for " +
                   std::to_string(killed + evicted) + " killed + evicted runs; " + std::to_string(checked) + "/" +
                   std::to_string(exit0_releases) + " exit-0 releases checked against Prefect, " + not_completed +
                   " not COMPLETED");
  report.figure("soak.detection_delay", "SIGKILL to Crashed: " + describe_seconds(det) + " (lease ttl " + plan.pod.ttl +
                                            ", reaper interval " + options.reaper_interval + ")");
  report.figure("soak.eviction_delay", "SIGTERM to Crashed: " + describe_seconds(evi));
  report.figure("soak.load", "peak " + std::to_string(totals.peak_alive) + " pods running at once; CPU starved " +
                                 fixed(totals.starved.count(), 1) + " s of " + fixed(totals.wall.count(), 1) + " s (" +
                                 fixed(starved_share * 100, 1) + " %); " + fixed(stop_answers, 0) +
                                 " heartbeats answered stop; " + std::to_string(late_completions) +
                                 " runs reported Completed only after their workload exited; slowest monitor tick " +
                                 fixed(totals.max_tick_gap.count(), 3) + " s");
  report.result("soak", {{"runs", std::to_string(totals.arrived)},
                         {"healthy", std::to_string(healthy)},
                         {"killed", std::to_string(killed)},
                         {"evicted", std::to_string(evicted)},
                         {"killed_crashed_once", std::to_string(killed_ok)},
                         {"evicted_crashed_once", std::to_string(evicted_ok)},
                         {"healthy_crashed", std::to_string(healthy - healthy_ok)},
                         {"leases_lost", std::to_string(healthy - lease_ok)},
                         {"start_rate", fixed(rate, 2)},
                         {"run_length_s", fixed(plan.run_length.count(), 0)},
                         {"ttl_s", fixed(plan.pod.ttl_s.count(), 1)},
                         {"detect_p50_s", fixed(det.p50)},
                         {"detect_p99_s", fixed(det.p99)},
                         {"detect_max_s", fixed(det.max)},
                         {"evict_p50_s", fixed(evi.p50)},
                         {"evict_p99_s", fixed(evi.p99)},
                         {"peak_pods", std::to_string(totals.peak_alive)},
                         {"starved_share", fixed(starved_share, 3)},
                         {"wall_s", fixed(totals.wall.count(), 1)}});
}

}  // namespace lifeline::faults
