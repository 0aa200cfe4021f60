#include "tests/fakes/time_text.hpp"

#include <array>
#include <cstdio>

namespace lifeline::fake_prefect {

namespace {

using std::chrono::days;
using std::chrono::microseconds;
using std::chrono::sys_days;

// Reads exactly `n` digits at `pos`; advances `pos`.
std::optional<int> read_digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

WallTime to_micros(WallTime t) {
  return std::chrono::time_point_cast<microseconds>(t);
}

double seconds_between(WallTime from, WallTime to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string format_time(WallTime t) {
  auto us = std::chrono::floor<microseconds>(t.time_since_epoch());
  auto day = std::chrono::floor<days>(us);
  std::chrono::year_month_day ymd{sys_days{day}};
  auto rest = us - day;
  auto h = std::chrono::duration_cast<std::chrono::hours>(rest);
  rest -= h;
  auto m = std::chrono::duration_cast<std::chrono::minutes>(rest);
  rest -= m;
  auto s = std::chrono::duration_cast<std::chrono::seconds>(rest);
  rest -= s;
  std::array<char, 64> buf{};
  int n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02lld",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), static_cast<int>(h.count()),
                        static_cast<int>(m.count()), static_cast<long long>(s.count()));
  std::string out(buf.data(), static_cast<std::size_t>(n));
  if (rest.count() != 0) {
    n = std::snprintf(buf.data(), buf.size(), ".%06lld", static_cast<long long>(rest.count()));
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  out.push_back('Z');
  return out;
}

std::optional<WallTime> parse_time(std::string_view s) {
  std::size_t pos = 0;
  auto year = read_digits(s, pos, 4);
  if (!year || !expect(s, pos, '-')) return std::nullopt;
  auto month = read_digits(s, pos, 2);
  if (!month || !expect(s, pos, '-')) return std::nullopt;
  auto day = read_digits(s, pos, 2);
  if (!day) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{*year},
                                  std::chrono::month{static_cast<unsigned>(*month)},
                                  std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) return std::nullopt;
  WallTime t = sys_days{ymd};
  if (pos == s.size()) return t;  // a bare date is midnight UTC
  if (!expect(s, pos, 'T') && !expect(s, pos, 't') && !expect(s, pos, ' ')) return std::nullopt;
  auto hour = read_digits(s, pos, 2);
  if (!hour || *hour > 23 || !expect(s, pos, ':')) return std::nullopt;
  auto minute = read_digits(s, pos, 2);
  if (!minute || *minute > 59) return std::nullopt;
  int second = 0;
  long long micros = 0;
  if (expect(s, pos, ':')) {
    auto sec = read_digits(s, pos, 2);
    if (!sec || *sec > 59) return std::nullopt;
    second = *sec;
    if (expect(s, pos, '.') || expect(s, pos, ',')) {
      long long scale = 100000;
      std::size_t digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        micros += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
        ++digits;
      }
      if (digits == 0) return std::nullopt;
    }
  }
  t += std::chrono::hours(*hour) + std::chrono::minutes(*minute) + std::chrono::seconds(second) +
       microseconds(micros);
  if (pos == s.size()) return t;
  if (expect(s, pos, 'Z') || expect(s, pos, 'z')) return pos == s.size() ? std::optional(t) : std::nullopt;
  int sign = 0;
  if (expect(s, pos, '+')) sign = 1;
  else if (expect(s, pos, '-')) sign = -1;
  else return std::nullopt;
  auto oh = read_digits(s, pos, 2);
  if (!oh) return std::nullopt;
  expect(s, pos, ':');
  auto om = read_digits(s, pos, 2);
  if (!om || pos != s.size()) return std::nullopt;
  t -= sign * (std::chrono::hours(*oh) + std::chrono::minutes(*om));
  return t;
}

}  // namespace lifeline::fake_prefect
