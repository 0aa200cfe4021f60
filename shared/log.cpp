#include "shared/log.hpp"

#include <unistd.h>

#include "shared/quoted_text.hpp"
#include "shared/time_format.hpp"

namespace lifeline {
namespace {

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& out) {
  for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error})
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  return false;
}

void append_logfmt(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  if (!needs_quotes(value)) {
    out += value;
    return;
  }
  append_quoted(out, value, ControlChars::replace_with_question_mark);
}

Logger::Logger(const Clock& clock, std::string component, LogLevel min_level, int fd)
    : clock_(&clock), component_(std::move(component)), min_level_(min_level), fd_(fd) {}

Logger Logger::with(std::initializer_list<LogField> fields) const {
  Logger copy = *this;
  for (const auto& f : fields) append_logfmt(copy.context_, f.key, f.value);
  return copy;
}

void Logger::log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) const {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(160);
  line += "ts=";
  line += format_rfc3339(clock_->wall_now());
  append_logfmt(line, "level", level_name(level));
  append_logfmt(line, "component", component_);
  append_logfmt(line, "msg", msg);
  line += context_;
  for (const auto& f : fields) append_logfmt(line, f.key, f.value);
  line += '\n';
  // One write per line so lines from several threads never interleave.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace lifeline
