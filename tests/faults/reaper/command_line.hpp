#pragma once
// fault_reaper's command line: which scenarios, how long, which seed.
// Thread-safety: plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lifeline::faults {

enum class Form { short_form, long_form };

struct DriverOptions {
  Form form = Form::short_form;
  std::vector<std::string> scenarios;  // in run order
  std::uint64_t seed = 1;
  bool help = false;
};

// The scenario names `--scenario all` stands for, in run order.
const std::vector<std::string>& all_scenarios();

// Parses argv; nullopt and `error` on a usage error.
std::optional<DriverOptions> parse_command_line(int argc, char** argv, std::string& error);

std::string usage_text();

}  // namespace lifeline::faults
