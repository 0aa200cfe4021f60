#pragma once
// The partition trials, run in parallel batches, and their checks: in every fence trial
// the workload is dead before the run is Crashed (and before its lease expires), with
// the smallest margin reported; the run is Crashed and rescheduled once; every healed
// trial's run is left alone with its workload alive.
// Thread-safety: called from the main thread; it starts one thread per trial of a batch.

#include "tests/faults/soak/command_line.hpp"
#include "tests/faults/soak/report.hpp"
#include "tests/faults/soak/test_bed.hpp"

namespace lifeline::faults {

void run_partitions(TestBed& bed, const Options& options, Report& report);

}  // namespace lifeline::faults
