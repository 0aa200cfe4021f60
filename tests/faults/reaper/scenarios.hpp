#pragma once
// The five reaper-fault scenarios. Each builds its own world (database, fake Prefect,
// reapers, sidecars), injects its faults, waits with deadlines for the system to settle,
// and returns its checks and figures. See main.cpp for what each proves.
// Thread-safety: called from the driver's main thread, one at a time.

#include <cstdint>
#include <random>

#include "tests/faults/reaper/command_line.hpp"
#include "tests/faults/reaper/environment.hpp"
#include "tests/faults/reaper/report.hpp"

namespace lifeline::faults {

struct ScenarioContext {
  Environment& env;
  Form form;
  std::uint64_t seed;
  std::mt19937_64 rng;
  bool is_long() const { return form == Form::long_form; }
};

ScenarioResult run_kills_scenario(ScenarioContext& ctx);
ScenarioResult run_replicas_scenario(ScenarioContext& ctx);
ScenarioResult run_pg_restart_scenario(ScenarioContext& ctx);
ScenarioResult run_pg_unreachable_scenario(ScenarioContext& ctx);
ScenarioResult run_prefect_scenario(ScenarioContext& ctx);

}  // namespace lifeline::faults
