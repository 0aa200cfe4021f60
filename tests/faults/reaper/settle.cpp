#include "tests/faults/reaper/settle.hpp"

#include <cstdio>

#include "tests/support/wait.hpp"

namespace lifeline::faults {

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  return buf;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

RunBook::Tally settle_and_check(ScenarioResult& result, const RunBook& book, const ScenarioDatabase& db,
                                const ReaperGroup& reapers, std::chrono::seconds deadline) {
  const auto start = std::chrono::steady_clock::now();
  const bool settled = testing::wait_until([&] { return book.all_dead_reaped() && db.unfinished_jobs() == 0; },
                                           deadline, std::chrono::milliseconds(250));
  const double waited = seconds_since(start);
  RunBook::Tally t = book.tally();
  // Added up: a scenario may settle several rounds (replicas: 2, then 3).
  result.reaped += t.reaped_once;
  result.duplicates += t.duplicates;
  result.lost += t.lost;
  result.healthy_crashed += t.healthy_crashed + t.unleased_crashed;

  result.check(t.dead > 0, "the scenario produced dead runs to reap", "dead=" + std::to_string(t.dead));
  result.check(settled && t.lost == 0, "every dead run was Crashed and rescheduled (nothing lost)",
               "dead=" + std::to_string(t.dead) + " lost=" + std::to_string(t.lost) +
                   " unfinished_jobs=" + std::to_string(db.unfinished_jobs()) + " settled_in=" +
                   seconds_text(waited) + "s of " + std::to_string(deadline.count()) + "s");
  result.check(t.duplicates == 0, "no run Crashed or rescheduled twice",
               "exactly_once=" + std::to_string(t.reaped_once) + " duplicates=" + std::to_string(t.duplicates));
  if (t.task_runs > 0) {
    const int slots = book.tag_slots_taken();
    result.check(t.task_runs_lost == 0 && t.task_run_duplicates == 0 && slots == t.task_runs_not_dead,
                 "each dead run's task run Crashed exactly once, its tag slot freed",
                 "task_runs=" + std::to_string(t.task_runs) + " once=" + std::to_string(t.task_runs_crashed_once) +
                     " duplicates=" + std::to_string(t.task_run_duplicates) + " lost=" +
                     std::to_string(t.task_runs_lost) + " slots_still_taken=" + std::to_string(slots) + " of_runs_never_leased=" +
                     std::to_string(t.task_runs_not_dead));
    result.duplicates += t.task_run_duplicates;
    result.lost += t.task_runs_lost;
  }
  result.check(t.healthy_crashed == 0 && t.unleased_crashed == 0 && t.healthy_lost_lease == 0,
               "no healthy run crashed, none lost its lease",
               "healthy=" + std::to_string(t.healthy) + " crashed=" + std::to_string(t.healthy_crashed) +
                   " told_stop_or_409=" + std::to_string(t.healthy_lost_lease) +
                   " never_leased=" + std::to_string(t.unleased) +
                   " never_leased_crashed=" + std::to_string(t.unleased_crashed));
  if (!t.evidence.empty() || !settled) {
    for (const auto& e : t.evidence) result.note("run " + e);
    for (const auto& line : reapers.log_lines("level=error", 10)) result.note("reaper log: " + line);
    for (const auto& path : reapers.log_paths()) result.note("reaper log file: " + path);
  }
  return t;
}

}  // namespace lifeline::faults
