#pragma once
// The reaper's command line: `--config FILE` (serve), `check-config FILE`,
// `migrate --config FILE`, `--help`, `--version`, `--log-level LEVEL`.
// Thread-safety: free functions without shared state.

#include <string>
#include <vector>

#include "shared/log.hpp"
#include "shared/result.hpp"

namespace lifeline::reaper {

enum class Command { serve, check_config, migrate, help, version };

struct CommandLine {
  Command command = Command::serve;
  std::string config_path;
  LogLevel log_level = LogLevel::info;
};

// Parses argv[1..]; errors are usage errors (exit 2).
Result<CommandLine> parse_command_line(const std::vector<std::string>& args);

// The text printed by --help.
std::string usage_text();

}  // namespace lifeline::reaper
