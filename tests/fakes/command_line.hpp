#pragma once
// The fake-prefect executable's command line.
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/fake_prefect.hpp"

namespace lifeline::fake_prefect {

struct CommandLine {
  FakePrefectOptions options;
  bool help = false;
};

// nullopt and `error` (one sentence naming the flag) when the arguments are invalid.
std::optional<CommandLine> parse_command_line(const std::vector<std::string>& args, std::string& error);
std::string usage();

// Go-style duration ("5ms", "1s", "1m30s") in milliseconds; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

}  // namespace lifeline::fake_prefect
