#include "tests/faults/soak/soak_scenario.hpp"

#include <unistd.h>

#include <cmath>
#include <mutex>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "tests/faults/soak/cpu_hog.hpp"
#include "tests/faults/soak/soak_pod.hpp"
#include "tests/faults/soak/soak_verdicts.hpp"

namespace lifeline::faults {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kTick = 20ms;  // the monitor's pace; also the resolution of fault timing

// Handed from the starter thread to the monitor.
struct Arrivals {
  std::mutex mu;
  std::vector<std::unique_ptr<SoakPod>> fresh;
  std::vector<PodRecord> unstarted;  // the pod could not even be spawned
  bool done = false;
  std::size_t arrived = 0;
  double max_lag_s = 0;
  SteadyClock::time_point last_start{};  // when the last pod was started (late ones stretch the window)
};

Fate draw_fate(std::mt19937_64& rng, const SoakPlan& plan) {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  if (u < plan.kill_share) return Fate::killed;
  if (u < plan.kill_share + plan.evict_share) return Fate::evicted;
  return Fate::healthy;
}

// The arrival schedule: run k arrives at k / rate; a late start is started at once and
// its lag recorded (the achieved rate is reported).
void start_pods(std::stop_token stop, TestBed& bed, const Options& options, SteadyClock::time_point t0,
                Arrivals& out) {
  const SoakPlan& plan = options.soak;
  std::mt19937_64 rng(options.seed);
  // Faults land anywhere in the run but its first 2 s and last 4 s (the driver reports a
  // healthy run Completed 1.5 s before its end; a fault must be unambiguous).
  std::uniform_real_distribution<double> strike(2.0, std::max(2.5, plan.run_length.count() - 4.0));
  for (std::size_t k = 0; !stop.stop_requested(); ++k) {
    const Seconds at{static_cast<double>(k) / plan.starts_per_second};
    if (at >= plan.arrivals) break;
    const auto due = t0 + std::chrono::duration_cast<SteadyClock::duration>(at);
    std::this_thread::sleep_until(due);  // pacing of the arrival schedule (ok)
    const double lag = std::chrono::duration<double>(SteadyClock::now() - due).count();

    PodRecord r;
    r.index = k;
    r.fate = draw_fate(rng, plan);
    const Seconds strike_after{strike(rng)};
    r.run_id = bed.create_running_run();
    r.holder = "flow-run-" + r.run_id.substr(0, 8) + "-p" + std::to_string(k);
    auto& reaper = bed.reaper_for(k);
    r.reaper_port = reaper.port();
    std::unique_ptr<SoakPod> pod;
    try {
      pod = std::make_unique<SoakPod>(r, plan.pod, reaper.url(), plan.run_length, strike_after);
    } catch (const std::exception& e) {
      r.problem = std::string("could not spawn the pod: ") + e.what();
    }
    std::lock_guard lock(out.mu);
    out.max_lag_s = std::max(out.max_lag_s, lag);
    out.last_start = SteadyClock::now();
    ++out.arrived;
    if (pod) out.fresh.push_back(std::move(pod));
    else out.unstarted.push_back(std::move(r));
  }
  std::lock_guard lock(out.mu);
  out.done = true;
}

// Starvation windows: on for `starve_on` in every `starve_period`, from a third into each
// period, only while runs arrive.
bool starve_now(const SoakPlan& plan, Seconds elapsed) {
  if (elapsed >= plan.arrivals) return false;
  const double in_period = std::fmod(elapsed.count(), plan.starve_period.count());
  const double from = plan.starve_period.count() / 3.0;
  return in_period >= from && in_period < from + plan.starve_on.count();
}

}  // namespace

void run_soak(TestBed& bed, const Options& options, Report& report) {
  const SoakPlan& plan = options.soak;
  const int cores = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  report.note("soak: " + fixed(plan.starts_per_second, 1) + " starts/s for " + fixed(plan.arrivals.count(), 0) +
              " s, runs of " + fixed(plan.run_length.count(), 0) + " s, sidecar interval " + plan.pod.interval +
              " ttl " + plan.pod.ttl + " kill_grace " + plan.pod.kill_grace + "; " +
              fixed(plan.kill_share * 100, 0) + " % killed, " + fixed(plan.evict_share * 100, 0) +
              " % evicted; CPU starved by " + std::to_string(cores) + " busy loops for " +
              fixed(plan.starve_on.count(), 0) + " s of every " + fixed(plan.starve_period.count(), 0) + " s");

  const auto t0 = SteadyClock::now();
  Arrivals arrivals;
  std::jthread starter([&](std::stop_token st) { start_pods(st, bed, options, t0, arrivals); });

  CpuHog hog(cores);
  std::vector<std::unique_ptr<SoakPod>> live;
  std::vector<PodRecord> records;
  std::size_t peak_alive = 0;
  Seconds starved{0};
  Seconds max_tick_gap{0};
  auto last_tick = t0;
  auto last_progress = t0;
  const auto deadline = t0 + std::chrono::duration_cast<SteadyClock::duration>(
                                 plan.arrivals + plan.run_length + plan.pod.ttl_s + Seconds{120});
  bool arrivals_done = false;
  bool timed_out = false;

  while (true) {
    const auto now = SteadyClock::now();
    {
      std::lock_guard lock(arrivals.mu);
      for (auto& p : arrivals.fresh) live.push_back(std::move(p));
      arrivals.fresh.clear();
      for (auto& r : arrivals.unstarted) records.push_back(std::move(r));
      arrivals.unstarted.clear();
      arrivals_done = arrivals.done;
    }
    if (hog.running()) starved += now - last_tick;
    // A slow tick delays every pod's faults and completions: reported as harness health.
    max_tick_gap = std::max(max_tick_gap, std::chrono::duration_cast<Seconds>(now - last_tick));
    last_tick = now;
    const bool starve = starve_now(plan, std::chrono::duration_cast<Seconds>(now - t0));
    if (starve && !hog.running()) hog.start();
    if (!starve && hog.running()) hog.stop();

    std::size_t alive = 0;
    for (auto it = live.begin(); it != live.end();) {
      SoakPod& pod = **it;
      if (pod.step(bed.fake(), now)) {
        PodRecord r = pod.record();
        if (r.problem.empty()) pod.forget_logs();
        records.push_back(std::move(r));
        it = live.erase(it);
        continue;
      }
      alive += pod.alive() ? 1 : 0;
      ++it;
    }
    peak_alive = std::max(peak_alive, alive);
    if (now - last_progress >= 15s) {
      last_progress = now;
      report.note("soak t=" + fixed(std::chrono::duration<double>(now - t0).count(), 0) + " s: " +
                  std::to_string(records.size() + live.size()) + " arrived, " + std::to_string(alive) +
                  " pods running, " + std::to_string(records.size()) + " settled" + (hog.running() ? ", CPU starved" : ""));
    }
    if (arrivals_done && live.empty()) break;
    if (now > deadline) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(kTick);  // the monitor's tick (ok: it paces polling, waits are bounded above)
  }
  hog.stop();
  starter.request_stop();
  starter.join();
  // The achieved rate is over the planned window, or longer when starts fell behind.
  const auto arrivals_end = std::max(arrivals.last_start, t0 + std::chrono::duration_cast<SteadyClock::duration>(plan.arrivals));
  for (auto& p : live) {  // only after a timeout
    PodRecord r = p->record();
    if (r.problem.empty()) r.problem = "no verdict before the soak's deadline";
    records.push_back(std::move(r));
  }
  live.clear();

  SoakTotals totals;
  totals.wall = std::chrono::duration_cast<Seconds>(SteadyClock::now() - t0);
  totals.arrival_window = std::chrono::duration_cast<Seconds>(arrivals_end - t0);
  totals.arrived = arrivals.arrived;
  totals.max_arrival_lag_s = arrivals.max_lag_s;
  totals.peak_alive = peak_alive;
  totals.starved = starved;
  totals.max_tick_gap = max_tick_gap;
  totals.timed_out = timed_out;
  judge_soak(bed, options, records, totals, report);
}

}  // namespace lifeline::faults
