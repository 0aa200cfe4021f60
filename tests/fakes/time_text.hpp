#pragma once
// Timestamps as Prefect's API writes and reads them (ISO 8601, UTC).
// Thread-safety: pure functions.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace lifeline::fake_prefect {

using WallTime = std::chrono::system_clock::time_point;

// "2026-11-23T14:21:13.709274Z"; the fraction is left out when it is zero, like pydantic.
std::string format_time(WallTime t);

// Accepts what pydantic accepts in practice: "YYYY-MM-DD[T ]HH:MM[:SS[.fraction]]" followed by
// "Z", "+HH:MM", "+HHMM" or nothing (naive times are taken as UTC). nullopt when malformed.
std::optional<WallTime> parse_time(std::string_view text);

// Prefect stores microseconds; keeping the same precision makes round trips exact.
WallTime to_micros(WallTime t);

// Seconds between two times as a double (Prefect reports durations as float seconds).
double seconds_between(WallTime from, WallTime to);

}  // namespace lifeline::fake_prefect
