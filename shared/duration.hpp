#pragma once
// Go-style duration strings ("250ms", "5s", "1m30s", "1.5h") used by every setting.

#include <chrono>
#include <string>
#include <string_view>

#include "shared/result.hpp"

namespace lifeline {

using Duration = std::chrono::milliseconds;

// Parses a non-negative Go-style duration with units ms, s, m, h. A bare number
// (other than none), a sign, an unknown unit or a value finer than a millisecond
// is an error.
Result<Duration> parse_duration(std::string_view text);

// Formats as the shortest Go-style string: 0s, 250ms, 5s, 1m30s, 2h0m5s, 1.5s.
std::string format_duration(Duration d);

// Seconds as a double, for JSON and metrics.
inline double to_seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace lifeline
