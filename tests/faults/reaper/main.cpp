// fault_reaper: the reaper under its own faults, with real processes.
//
//   kills           a reaper SIGKILLed at random moments (every pipeline step) and restarted
//                   while leases keep expiring: each dead run one CRASHED, one AwaitingRetry
//   replicas        2 and 3 replicas on one database, one of them SIGKILLed midway
//   pg-restart      PostgreSQL stopped and started under a heavy heartbeat load
//   pg-unreachable  PostgreSQL black-holed (and refused) for longer than the TTL:
//                   no mass reaping afterwards, runs that really died still reaped
//   prefect         Prefect answering 503, timing out, closing connections, for a span each
//
// main only wires: options, one environment, the scenarios in order, the summary.

#include <signal.h>

#include <chrono>
#include <exception>
#include <functional>
#include <iostream>

#include "tests/faults/reaper/command_line.hpp"
#include "tests/faults/reaper/environment.hpp"
#include "tests/faults/reaper/report.hpp"
#include "tests/faults/reaper/scenarios.hpp"
#include "tests/faults/reaper/settle.hpp"

int main(int argc, char** argv) {
  using namespace lifeline::faults;
  ::signal(SIGPIPE, SIG_IGN);  // a reaper killed mid-request must not kill the driver
  std::string error;
  auto options = parse_command_line(argc, argv, error);
  if (!options) {
    std::cerr << "fault_reaper: " << error << "\n" << usage_text();
    return 2;
  }
  if (options->help) {
    std::cout << usage_text();
    return 0;
  }
  const auto started = std::chrono::steady_clock::now();
  std::cout << "fault_reaper form=" << (options->form == Form::long_form ? "long" : "short")
            << " seed=" << options->seed << std::endl;

  std::vector<ScenarioResult> results;
  try {
    Environment env;
    for (const auto& name : options->scenarios) {
      // Each scenario draws from its own generator, so one scenario's draws do not shift
      // another's when run alone with the same seed.
      ScenarioContext ctx{env, options->form, options->seed,
                          std::mt19937_64(options->seed * 1000003u + std::hash<std::string>{}(name))};
      std::cout << "\n== " << name << std::endl;
      const auto t0 = std::chrono::steady_clock::now();
      ScenarioResult r;
      try {
        if (name == "kills") r = run_kills_scenario(ctx);
        else if (name == "replicas") r = run_replicas_scenario(ctx);
        else if (name == "pg-restart") r = run_pg_restart_scenario(ctx);
        else if (name == "pg-unreachable") r = run_pg_unreachable_scenario(ctx);
        else r = run_prefect_scenario(ctx);
      } catch (const std::exception& e) {
        r.name = name;
        r.check(false, "the scenario ran to its end", std::string("aborted: ") + e.what());
      }
      r.seconds = seconds_since(t0);
      results.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    std::cout << "FAIL environment: " << e.what() << std::endl;
    return 1;
  }
  print_summary(results, seconds_since(started));
  for (const auto& r : results)
    if (!r.passed()) return 1;
  return 0;
}
