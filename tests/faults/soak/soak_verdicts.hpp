#pragma once
// The soak's checks and figures, decided from the pods' records, the fake Prefect's
// state histories, the reapers' lease API, metrics and database once every pod settled.
// Thread-safety: the monitor thread only.

#include <vector>

#include "tests/faults/soak/command_line.hpp"
#include "tests/faults/soak/report.hpp"
#include "tests/faults/soak/soak_pod.hpp"
#include "tests/faults/soak/test_bed.hpp"

namespace lifeline::faults {

struct SoakTotals {
  Seconds wall{0};            // from the first arrival to the last verdict
  Seconds arrival_window{0};  // how long runs arrived
  std::size_t arrived = 0;
  double max_arrival_lag_s = 0;
  std::size_t peak_alive = 0;
  Seconds starved{0};
  Seconds max_tick_gap{0};    // the monitor's slowest turn (its tick is 20 ms)
  bool timed_out = false;
};

void judge_soak(TestBed& bed, const Options& options, const std::vector<PodRecord>& records, const SoakTotals& totals,
                Report& report);

}  // namespace lifeline::faults
