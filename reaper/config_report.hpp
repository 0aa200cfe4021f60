#pragma once
// Renders the effective configuration (defaults filled in, secrets redacted) as TOML,
// for `lifeline-reaper check-config` and the startup log.
// Thread-safety: free functions without shared state.

#include <string>
#include <string_view>

#include "reaper/config.hpp"

namespace lifeline::reaper {

// The effective settings as a TOML document that loads back to the same Config
// (apart from secrets, which are never printed).
std::string describe_config(const Config& config);

// A libpq URI or key=value conninfo with its password replaced by "***".
std::string redact_conninfo(std::string_view conninfo);

}  // namespace lifeline::reaper
