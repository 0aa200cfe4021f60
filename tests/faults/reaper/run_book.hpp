#pragma once
// The runs of one scenario and what is expected of each: a dead run (its lease stopped
// being renewed after at least one acknowledged heartbeat, or its real pod died) must end
// with exactly one CRASHED and one AwaitingRetry in the fake Prefect's history; a healthy
// run with none. The tally reads the fake's state histories, which are the ground truth:
// whatever the reaper believes, Prefect is what users see.
// Thread-safety: one owner thread.

#include <chrono>
#include <string>
#include <vector>

#include "tests/faults/reaper/heartbeat_fleet.hpp"
#include "tests/fakes/fake_prefect.hpp"

namespace lifeline::faults {

class RunBook {
 public:
  RunBook(fake_prefect::FakePrefect& fake, std::string deployment_id, HeartbeatFleet* fleet);

  // A Running run in the fake (with the scenario's deployment), not tracked yet.
  std::string create_run();
  // A run whose simulated lease is renewed until the end.
  std::string add_healthy(int ttl_seconds);
  // A run whose simulated lease gets `beats` acknowledged heartbeats and then expires.
  std::string add_dying(int ttl_seconds, int beats = 1);
  // From now on every dying run also has a RUNNING task run holding a slot of the tag
  // concurrency limit `tag` (created here, large enough never to block): the reaper's
  // "free slots" step then has work, and its effects can be counted.
  void give_dying_runs_task_runs(const std::string& tag);
  // Slots of that tag limit still taken ("" when no limit was set up).
  int tag_slots_taken() const;
  // A run driven by a real pod: expected healthy until mark_dead.
  void track_pod_run(const std::string& run);
  // A healthy run dies now: its simulated lease stops being renewed (or its pod died).
  void mark_dead(const std::string& run);

  struct Tally {
    int dead = 0;             // runs whose lease was held and then left to expire
    int reaped_once = 0;      // dead runs with exactly one CRASHED and one AwaitingRetry
    int duplicates = 0;       // runs (dead or not) with more than one CRASHED or AwaitingRetry
    int lost = 0;             // dead runs lacking their CRASHED or AwaitingRetry
    int healthy = 0;
    int healthy_crashed = 0;  // healthy runs with any CRASHED
    int healthy_lost_lease = 0;  // healthy simulated leases answered stop or 409
    std::chrono::milliseconds healthy_max_gap{0};  // longest gap between acknowledged renewals
    int unleased = 0;         // dying runs whose first heartbeat was never acknowledged
    int unleased_crashed = 0;
    int task_runs = 0;             // task runs of dead runs
    int task_runs_crashed_once = 0;
    int task_run_duplicates = 0;   // task runs Crashed more than once
    int task_runs_lost = 0;        // task runs of dead runs never Crashed
    int task_runs_not_dead = 0;    // task runs of runs never leased: their slots stay taken
    std::vector<std::string> evidence;  // "<run> <kind> crashed=N retried=M", problems only
  };
  Tally tally() const;
  // Every dead run has its CRASHED and its AwaitingRetry (possibly more: tally tells).
  bool all_dead_reaped() const;
  int dead_reaped_count() const;
  int size() const { return static_cast<int>(runs_.size()); }

 private:
  enum class Kind { healthy, dying_simulated, dead };
  struct Entry {
    std::string run;
    Kind kind;
    std::string task_run;  // "" when none
  };
  bool is_dead(const Entry& e) const;
  std::pair<int, int> crashed_and_retried(const std::string& run) const;

  fake_prefect::FakePrefect& fake_;
  std::string deployment_id_;
  HeartbeatFleet* fleet_;
  std::vector<Entry> runs_;
  long next_holder_ = 0;
  std::string task_tag_;
};

}  // namespace lifeline::faults
