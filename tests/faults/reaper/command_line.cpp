#include "tests/faults/reaper/command_line.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace lifeline::faults {

const std::vector<std::string>& all_scenarios() {
  static const std::vector<std::string> names{"kills", "replicas", "pg-restart", "pg-unreachable", "prefect"};
  return names;
}

std::optional<DriverOptions> parse_command_line(int argc, char** argv, std::string& error) {
  DriverOptions o;
  std::string scenario = "all";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    // Both "--flag value" and "--flag=value".
    auto value_of = [&](std::string_view flag) -> std::optional<std::string> {
      if (a.substr(0, flag.size()) != flag) return std::nullopt;
      if (a.size() == flag.size()) {
        if (i + 1 >= argc) return std::string{};
        return std::string(argv[++i]);
      }
      if (a[flag.size()] == '=') return std::string(a.substr(flag.size() + 1));
      return std::nullopt;
    };
    if (a == "--short") {
      o.form = Form::short_form;
    } else if (a == "--long") {
      o.form = Form::long_form;
    } else if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (auto name = value_of("--scenario")) {
      scenario = *name;
    } else if (auto v = value_of("--seed")) {
      std::uint64_t seed = 0;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seed);
      if (v->empty() || ec != std::errc{} || end != v->data() + v->size()) {
        error = "--seed needs a non-negative integer, got '" + *v + "'";
        return std::nullopt;
      }
      o.seed = seed;
    } else {
      error = "unknown argument '" + std::string(a) + "'";
      return std::nullopt;
    }
  }
  if (scenario == "all") {
    o.scenarios = all_scenarios();
  } else if (std::find(all_scenarios().begin(), all_scenarios().end(), scenario) != all_scenarios().end()) {
    o.scenarios = {scenario};
  } else {
    error = "unknown scenario '" + scenario + "' (kills, replicas, pg-restart, pg-unreachable, prefect, all)";
    return std::nullopt;
  }
  return o;
}

std::string usage_text() {
  return "usage: fault_reaper [--short|--long] [--scenario kills|replicas|pg-restart|pg-unreachable|prefect|all]\n"
         "                    [--seed N] [--help]\n"
         "\n"
         "Starts PostgreSQL, the fake Prefect API, lifeline-reaper processes and sidecars (real\n"
         "lifeline-sidecar pods and simulated heartbeat loops), injects faults into the reaper's\n"
         "world and checks that every dead run is Crashed and rescheduled exactly once and that no\n"
         "healthy run is touched.\n"
         "\n"
         "  --short      the CI form (default): about 5 minutes for all scenarios\n"
         "  --long       the on-demand form: 100 reaper kills, longer outages and more load\n"
         "  --scenario   one scenario, or all (default)\n"
         "  --seed N     seeds every random choice (kill moments, lease TTLs); default 1\n"
         "\n"
         "Prints PASS/FAIL per check, a markdown table and RESULT key=value lines.\n"
         "Exit status: 0 when every check passed, 1 when one failed, 2 on a usage error.\n";
}

}  // namespace lifeline::faults
