#pragma once
// One pod of the soak, from its start to a verdict: a sidecar (exec mode) wrapping
// `sleep <run length>`, with a fate drawn at arrival. A healthy pod's run is reported
// Completed by "the flow" (this driver, standing in for Prefect's engine) shortly before
// its workload exits, as the demo does; a killed pod loses sidecar and workload to SIGKILL
// at once (its node vanished); an evicted pod's sidecar gets SIGTERM. step() advances the
// pod by what happened since the last call and never blocks for long.
// Thread-safety: one owner thread (the soak's monitor).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "shared/clock.hpp"
#include "tests/e2e/processes.hpp"
#include "tests/fakes/fake_prefect.hpp"
#include "tests/faults/soak/command_line.hpp"

namespace lifeline::faults {

enum class Fate { healthy, killed, evicted };
const char* fate_name(Fate f);

using SteadyPoint = std::chrono::steady_clock::time_point;

// Everything the verdicts need about a pod once its SidecarPod is gone.
struct PodRecord {
  std::size_t index = 0;
  std::string run_id;
  std::string holder;
  Fate fate = Fate::healthy;
  std::uint16_t reaper_port = 0;
  bool workload_started = false;
  std::optional<WallTime> struck_at;     // SIGKILL / SIGTERM sent (wall clock, as the fake's)
  std::optional<int> sidecar_exit;       // decoded status (128+signal when killed)
  bool completion_reported = false;      // COMPLETED proposed for a healthy run
  bool completion_late = false;          // ... only after its sidecar had exited
  std::string problem;                   // what went wrong in the harness's view ("" if nothing)
  std::string log_paths;                 // kept for a pod with a problem
};

class SoakPod {
 public:
  // Starts the sidecar (returns once it logged its health port, or after 10 s).
  SoakPod(PodRecord record, const PodTiming& timing, const std::string& reaper_url, Seconds run_length,
          Seconds strike_after);
  ~SoakPod();

  // Advances the pod; true once it has a verdict (record() is then final).
  bool step(fake_prefect::FakePrefect& fake, SteadyPoint now);
  // The sidecar process is still running (for the concurrency count).
  bool alive() const { return phase_ == Phase::starting || phase_ == Phase::running || phase_ == Phase::exiting; }
  const PodRecord& record() const { return record_; }
  // Removes the pod's log files (kept when something went wrong).
  void forget_logs();

 private:
  enum class Phase { starting, running, exiting, awaiting_reap, settled };
  void settle(const std::string& problem);
  void on_exit(fake_prefect::FakePrefect& fake);
  bool poll_exit();  // reaps the sidecar if it exited

  PodRecord record_;
  Seconds run_length_;
  Seconds strike_after_;
  Seconds ttl_;
  std::unique_ptr<testing::SidecarPod> pod_;
  Phase phase_ = Phase::starting;
  SteadyPoint created_;
  SteadyPoint workload_seen_{};
  SteadyPoint struck_steady_{};
};

}  // namespace lifeline::faults
