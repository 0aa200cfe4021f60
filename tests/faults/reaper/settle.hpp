#pragma once
// The end of every scenario: wait (bounded) until every dead run has been Crashed and
// rescheduled and no reap job is left unfinished in the database, so that a late
// duplicate would already be visible; then tally the fake Prefect's histories and record
// the checks every scenario shares (nothing lost, nothing twice, no healthy run crashed).
// Thread-safety: one owner thread.

#include <chrono>

#include "tests/faults/reaper/environment.hpp"
#include "tests/faults/reaper/reaper_group.hpp"
#include "tests/faults/reaper/report.hpp"
#include "tests/faults/reaper/run_book.hpp"

namespace lifeline::faults {

RunBook::Tally settle_and_check(ScenarioResult& result, const RunBook& book, const ScenarioDatabase& db,
                                const ReaperGroup& reapers, std::chrono::seconds deadline);

// "12.3"
std::string seconds_text(double s);
double seconds_since(std::chrono::steady_clock::time_point t);

}  // namespace lifeline::faults
