#pragma once
// What fault_soak runs: the scenarios, their sizes for the CI (--short) and on-demand
// (--long) forms, and the timing of the sidecars and reapers they start.
// Thread-safety: plain values.

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

namespace lifeline::faults {

using Seconds = std::chrono::duration<double>;

// The sidecar settings of a pod, as its command line spells them.
struct PodTiming {
  std::string interval;
  std::string ttl;
  std::string kill_grace;
  Seconds interval_s;
  Seconds ttl_s;
  Seconds kill_grace_s;
};

struct SoakPlan {
  Seconds arrivals{120};           // how long new runs keep arriving
  double starts_per_second = 7.0;  // 25,000 runs an hour
  Seconds run_length{30};          // a healthy run's workload: sleep this long
  double kill_share = 0.05;        // pods SIGKILLed with their workload (node gone)
  double evict_share = 0.02;       // pods SIGTERMed (evicted)
  Seconds starve_period{60};       // CPU starvation: on for starve_on out of every period
  Seconds starve_on{20};
  PodTiming pod{"2s", "10s", "2s", Seconds{2}, Seconds{10}, Seconds{2}};
};

struct PartitionPlan {
  int fence_trials = 100;  // black-holed until the run is Crashed
  int heal_trials = 20;    // black-holed briefly, then forwarded again
  int parallel = 50;       // trials running at once
  // TTL 5 s, kill grace 0.5 s: the sidecar's budget ttl - margin(1 s) - kill_grace = 3.5 s
  // fits the startup rule (2 x interval + request timeout = 2.5 s) and leaves a partition
  // of up to about 2 s survivable (see partition_trial.hpp).
  PodTiming pod{"1s", "5s", "500ms", Seconds{1}, Seconds{5}, Seconds{0.5}};
};

enum class Scenario { soak, partitions, all };

struct Options {
  bool long_form = false;
  Scenario scenario = Scenario::all;
  std::uint64_t seed = 1;
  SoakPlan soak;
  PartitionPlan partitions;
  // The reapers both scenarios share: two replicas over one database.
  int reapers = 2;
  std::string reaper_interval = "250ms";
  std::string completion_grace = "5s";
  Seconds completion_grace_s{5};
};

struct HelpRequested {};
struct UsageError {
  std::string message;
};

std::variant<Options, HelpRequested, UsageError> parse_command_line(int argc, char** argv);
std::string usage_text();
const char* scenario_name(Scenario s);

}  // namespace lifeline::faults
