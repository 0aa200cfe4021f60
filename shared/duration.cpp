#include "shared/duration.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

namespace lifeline {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t ms;
};

constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};

Error bad(std::string_view text, std::string_view why) {
  return make_error("bad_duration", "invalid duration \"" + std::string(text) + "\": " +
                                        std::string(why) +
                                        " (use e.g. 250ms, 5s, 2m, 1m30s, 1h)");
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return bad(text, "empty");
  if (text.front() == '-') return bad(text, "negative durations are not allowed");
  if (text.front() == '+') return bad(text, "a sign is not allowed");
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    std::size_t int_end = i;
    std::size_t frac_start = i, frac_end = i;
    if (i < text.size() && text[i] == '.') {
      frac_start = ++i;
      while (i < text.size() && is_digit(text[i])) ++i;
      frac_end = i;
    }
    if (int_end == start && frac_end == frac_start) return bad(text, "expected a number");
    std::size_t unit_start = i;
    while (i < text.size() && !is_digit(text[i]) && text[i] != '.') ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) return bad(text, "missing unit");
    const Unit* found = nullptr;
    for (const auto& u : kUnits)
      if (u.name == unit) found = &u;
    if (found == nullptr) return bad(text, "unknown unit \"" + std::string(unit) + "\"");
    double value = 0;
    for (std::size_t k = start; k < int_end; ++k) {
      value = value * 10 + (text[k] - '0');
      if (value > 1e12) return bad(text, "too large");
    }
    double scale = 0.1;
    for (std::size_t k = frac_start; k < frac_end; ++k, scale /= 10) value += (text[k] - '0') * scale;
    total_ms += value * static_cast<double>(found->ms);
    if (total_ms > 1e13) return bad(text, "too large");
  }
  double rounded = std::round(total_ms);
  if (std::fabs(rounded - total_ms) > 1e-6) return bad(text, "finer than a millisecond");
  return Duration(static_cast<std::int64_t>(rounded));
}

std::string format_duration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out;
  std::int64_t h = ms / 3'600'000;
  ms %= 3'600'000;
  std::int64_t m = ms / 60'000;
  ms %= 60'000;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  std::int64_t s = ms / 1000, frac = ms % 1000;
  out += std::to_string(s);
  if (frac != 0) {
    std::string f = std::to_string(frac);
    f = std::string(3 - f.size(), '0') + f;
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  out += "s";
  // Trim "0s" tails such as "1h0m0s" -> keep Go's form; Go prints 1h0m0s too.
  return out;
}

}  // namespace lifeline
