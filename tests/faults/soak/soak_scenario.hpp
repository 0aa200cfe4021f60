#pragma once
// The soak: runs arrive at a steady rate (7 a second is 25,000 an hour), each a pod with a
// sidecar and a `sleep` workload; a share of the pods is killed with SIGKILL (sidecar and
// workload, as when a node vanishes) or evicted (SIGTERM) at a random point of the run,
// and busy loops starve the CPU part of the time. Checks: every killed or evicted run is
// Crashed and rescheduled exactly once, no healthy run is ever Crashed, no healthy pod
// loses its lease. Figures: detection and eviction delays, concurrency, starvation share.
//
// Threads: a starter thread paces the arrivals and starts the pods (fork/exec and the
// wait for the sidecar's first log line take milliseconds); the calling thread is the
// monitor that steps every live pod each tick, toggles the CPU load and decides.

#include "tests/faults/soak/command_line.hpp"
#include "tests/faults/soak/report.hpp"
#include "tests/faults/soak/test_bed.hpp"

namespace lifeline::faults {

void run_soak(TestBed& bed, const Options& options, Report& report);

}  // namespace lifeline::faults
