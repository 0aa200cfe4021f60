#pragma once
// Loads the reaper's TOML configuration into a validated Config. Every problem is
// collected (not just the first), each with the file, line and column it comes from,
// so an operator fixes a file in one pass.
// Thread-safety: free functions without shared state.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reaper/config.hpp"

namespace lifeline::reaper {

struct ConfigError {
  std::string file;
  std::uint32_t line = 0;    // 0 when the problem has no position (e.g. unreadable file)
  std::uint32_t column = 0;
  std::string message;

  // "file:line:column: message" (or "file: message" without a position).
  std::string to_string() const;
};

struct ConfigLoad {
  Config config;                   // meaningful only when ok()
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

// Reads and validates `path`. Secret files (token_file, url_file, api_key_file,
// auth_string_file) are read too, their contents trimmed; relative secret paths are
// resolved against the configuration file's directory.
ConfigLoad load_config_file(const std::string& path);

// Same, from text; `source_name` names the text in errors and is the base for
// relative secret paths.
ConfigLoad load_config_text(std::string_view text, const std::string& source_name);

}  // namespace lifeline::reaper
