#include "tests/faults/soak/command_line.hpp"

#include <charconv>
#include <optional>
#include <string_view>

namespace lifeline::faults {
namespace {

// The CI form keeps the full arrival rate and run length and shortens the window; the
// long form is the 30 minutes with more partition trials.
void apply_form(Options& o) {
  if (o.long_form) {
    o.soak.arrivals = Seconds{30 * 60};
    o.partitions.fence_trials = 200;
    o.partitions.heal_trials = 50;
  }
}

}  // namespace

std::string usage_text() {
  return "usage: fault_soak [--short|--long] [--scenario soak|partitions|all] [--seed N] [--help]\n"
         "\n"
         "Starts PostgreSQL, the fake Prefect API, two reapers and many sidecar pods as real\n"
         "processes, injects faults and prints PASS/FAIL lines, a markdown table and RESULT lines.\n"
         "  soak        7 starts/s (25,000 runs an hour), 30 s runs, 5 % of pods SIGKILLed,\n"
         "              2 % evicted, CPU starved by busy loops a third of the time\n"
         "  partitions  each pod's sidecar reaches the reaper through its own TCP proxy; the\n"
         "              proxy black-holes it until the run is Crashed (fencing margin), or\n"
         "              briefly (the run must be left alone)\n"
         "  --short     CI form (default): 2 minutes of arrivals, 100 + 20 partition trials\n"
         "  --long      30 minutes of arrivals, 200 + 50 partition trials\n"
         "Exit status: 0 when every check passed, 1 otherwise, 2 for usage errors.\n";
}

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::soak: return "soak";
    case Scenario::partitions: return "partitions";
    case Scenario::all: return "all";
  }
  return "?";
}

std::variant<Options, HelpRequested, UsageError> parse_command_line(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (a.substr(0, flag.size()) == flag && a.size() > flag.size() && a[flag.size()] == '=')
        return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < argc) return std::string_view(argv[++i]);
      return std::nullopt;
    };
    if (a == "--help" || a == "-h") return HelpRequested{};
    if (a == "--short") {
      o.long_form = false;
    } else if (a == "--long") {
      o.long_form = true;
    } else if (auto scenario = value("--scenario")) {
      if (*scenario == "soak") o.scenario = Scenario::soak;
      else if (*scenario == "partitions") o.scenario = Scenario::partitions;
      else if (*scenario == "all") o.scenario = Scenario::all;
      else return UsageError{"--scenario must be soak, partitions or all, not '" + std::string(*scenario) + "'"};
    } else if (auto seed = value("--seed")) {
      auto [end, ec] = std::from_chars(seed->data(), seed->data() + seed->size(), o.seed);
      if (ec != std::errc{} || end != seed->data() + seed->size())
        return UsageError{"--seed must be a non-negative integer, not '" + std::string(*seed) + "'"};
    } else {
      return UsageError{"unknown argument '" + std::string(a) + "'"};
    }
  }
  apply_form(o);
  return o;
}

}  // namespace lifeline::faults
