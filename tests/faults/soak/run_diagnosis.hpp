#pragma once
// Why a trial failed, in the driver's own output: the lines every reaper replica logged
// about the run, the Prefect calls the fake received for it (with their answers) and the
// run's state history. A CI log then shows the cause even after the temporary files the
// reapers logged to are gone.
// Thread-safety: reads the reapers' log files and the thread-safe fake.

#include <cstddef>
#include <string>
#include <vector>

#include "tests/faults/soak/test_bed.hpp"

namespace lifeline::faults {

// At most `max_per_source` lines from each source (the newest kept), each prefixed by
// where it came from ("reaper-1:", "prefect call:", "prefect state:").
std::vector<std::string> diagnose_run(TestBed& bed, const std::string& run_id, std::size_t max_per_source = 30);

}  // namespace lifeline::faults
