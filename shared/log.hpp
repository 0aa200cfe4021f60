#pragma once
// Structured logging: one line per event in logfmt (key=value), e.g.
//   ts=2026-11-23T14:02:11.123Z level=warn component=sidecar msg="heartbeat failed" run_id=...
// Thread-safety: a Logger may be shared by threads; each line is written with one write(2).

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "shared/clock.hpp"

namespace lifeline {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

// Parses "debug", "info", "warn", "error".
bool parse_log_level(std::string_view text, LogLevel& out);

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
  LogField(std::string_view k, N v) : key(k), value(number(v)) {}

  std::string_view key;
  std::string value;

 private:
  template <typename N>
  static std::string number(N v) {
    if constexpr (std::is_same_v<N, bool>) return v ? "true" : "false";
    else return std::to_string(v);
  }
};

class Logger {
 public:
  // Writes to file descriptor `fd` (2 = stderr). `component` is added to every line.
  Logger(const Clock& clock, std::string component, LogLevel min_level = LogLevel::info, int fd = 2);

  // A logger that adds `fields` to every line (e.g. the run id).
  Logger with(std::initializer_list<LogField> fields) const;

  void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {}) const;
  void debug(std::string_view msg, std::initializer_list<LogField> f = {}) const { log(LogLevel::debug, msg, f); }
  void info(std::string_view msg, std::initializer_list<LogField> f = {}) const { log(LogLevel::info, msg, f); }
  void warn(std::string_view msg, std::initializer_list<LogField> f = {}) const { log(LogLevel::warn, msg, f); }
  void error(std::string_view msg, std::initializer_list<LogField> f = {}) const { log(LogLevel::error, msg, f); }

  void set_level(LogLevel level) { min_level_ = level; }
  bool enabled(LogLevel level) const { return level >= min_level_; }

 private:
  const Clock* clock_;
  std::string component_;
  std::string context_;  // pre-rendered " k=v" pairs added by with()
  LogLevel min_level_;
  int fd_;
};

// Appends ` key=value` to `out`, quoting the value when it needs it.
void append_logfmt(std::string& out, std::string_view key, std::string_view value);

}  // namespace lifeline
