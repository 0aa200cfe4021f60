#pragma once
// RFC 3339 timestamps as Prefect writes and reads them.

#include <optional>
#include <string>
#include <string_view>

#include "shared/clock.hpp"

namespace lifeline {

// "2026-11-23T14:02:11.123456Z" (microseconds) or with `seconds_only`, "2026-11-23T14:02:11Z".
std::string format_rfc3339(WallTime t, bool seconds_only = false);

// Accepts "Z" or "+HH:MM" offsets and optional fractional seconds.
std::optional<WallTime> parse_rfc3339(std::string_view text);

}  // namespace lifeline
