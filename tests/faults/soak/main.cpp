// fault_soak: the soak and partition parts of lifeline's fault suite. It wires the
// services (PostgreSQL, the fake Prefect API, two reapers), runs the chosen scenarios
// and prints PASS/FAIL lines, a markdown table and RESULT lines; exit 0 only if all pass.

#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <variant>

#include "shared/process_limits.hpp"
#include "tests/faults/soak/command_line.hpp"
#include "tests/faults/soak/partition_scenario.hpp"
#include "tests/faults/soak/report.hpp"
#include "tests/faults/soak/soak_scenario.hpp"
#include "tests/faults/soak/test_bed.hpp"

using namespace lifeline::faults;

namespace {

// ~210 pods are ~420 processes plus their sockets and log files: the soft limits are
// raised to the hard ones (children inherit them) and printed.
std::string raise_limits() {
  const auto files = lifeline::raise_open_files_limit();
  rlimit procs{};
  if (getrlimit(RLIMIT_NPROC, &procs) == 0 && procs.rlim_cur < procs.rlim_max) {
    rlimit wanted = procs;
    wanted.rlim_cur = procs.rlim_max;
    if (setrlimit(RLIMIT_NPROC, &wanted) == 0) procs = wanted;
  }
  auto text = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); };
  return "open files " + std::to_string(files.soft) + ", processes " + text(procs.rlim_cur);
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_command_line(argc, argv);
  if (std::holds_alternative<HelpRequested>(parsed)) {
    std::cout << usage_text();
    return 0;
  }
  if (auto* err = std::get_if<UsageError>(&parsed)) {
    std::cerr << "fault_soak: " << err->message << "\n" << usage_text();
    return 2;
  }
  const Options options = std::get<Options>(parsed);
  Report report;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    std::cout << "fault_soak " << (options.long_form ? "--long" : "--short") << " --scenario "
              << scenario_name(options.scenario) << " --seed " << options.seed << std::endl;
    report.note("limits: " + raise_limits());
    TestBed bed(options);
    std::string logs;
    for (const auto& r : bed.reapers()) logs += " " + r->process().stderr_path();
    report.note("fake Prefect at " + bed.fake().api_url() + ", " + std::to_string(bed.reapers().size()) +
                " reapers over one database; reaper logs:" + logs);
    if (options.scenario != Scenario::partitions) run_soak(bed, options, report);
    if (options.scenario != Scenario::soak) run_partitions(bed, options, report);
  } catch (const std::exception& e) {
    report.check("setup", false, e.what());
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.figure("wall_time", fixed(wall, 1) + " s for the whole program");
  report.print_summary();
  return report.all_passed() ? 0 : 1;
}
