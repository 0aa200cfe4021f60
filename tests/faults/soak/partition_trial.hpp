#pragma once
// One partition trial: a pod whose sidecar reaches a reaper through its own TcpProxy. At a
// random point of the heartbeat cycle the proxy starts black-holing (connections stay
// open, nothing passes, requests hang), as a network partition does.
//   fence trial: the partition lasts; the sidecar must kill its workload before the reaper
//     may act. Measured: when the workload died (pidfd), when the lease expired (the
//     reaper's expires_at, database clock) and when the run was Crashed (the fake's
//     timestamp of the state), all on this machine's wall clock.
//   heal trial: the proxy forwards again after a partition shorter than the sidecar can
//     survive: ttl - margin - kill_grace - interval - request_timeout (2 s with interval
//     1 s, TTL 5 s, kill grace 0.5 s: the heartbeat sent last before the deadline gets
//     through). The run must not be Crashed and the workload must live on.
// Half of the fence trials run a workload that ignores SIGTERM, so the sidecar's SIGKILL
// after kill_grace is what ends it (the latest a fenced workload can die).
// Thread-safety: run_partition_trial may run on many threads at once (each trial owns its
// proxy and pod; the TestBed's fake is thread-safe).

#include <optional>
#include <string>

#include "shared/clock.hpp"
#include "tests/faults/soak/command_line.hpp"
#include "tests/faults/soak/test_bed.hpp"

namespace lifeline::faults {

struct TrialPlan {
  int index = 0;
  bool heal = false;
  bool ignores_sigterm = false;
  Seconds phase{0};        // from the first acknowledged heartbeat to the partition
  Seconds partition{0};    // heal trials: how long the black hole lasts
};

struct TrialResult {
  TrialPlan plan;
  std::string run_id;
  std::string problem;  // the trial could not be carried out (harness), "" otherwise
  std::optional<WallTime> partitioned_at;
  std::optional<WallTime> workload_dead_at;
  std::optional<WallTime> lease_expires_at;
  std::optional<WallTime> crashed_at;
  int crashed = 0;
  int awaiting_retry = 0;
  std::optional<int> sidecar_exit;
  // heal trials, after the observation window
  bool workload_alive_after = false;
  bool ready_after = false;
  std::string lease_state_after;
  std::int64_t epoch_after = 0;
  const char* death_resolution = "";
  std::string sidecar_log;  // the sidecar's stderr file (removed for trials that passed)
};

// The longest partition a sidecar with `pod` timing is built to survive (see above).
Seconds survivable_partition(const PodTiming& pod);

TrialResult run_partition_trial(TestBed& bed, const PartitionPlan& plan, const TrialPlan& trial);

}  // namespace lifeline::faults
