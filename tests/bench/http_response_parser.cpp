#include "tests/bench/http_response_parser.hpp"

#include <charconv>

namespace lifeline::bench {
namespace {

// ASCII only, as HTTP header names are; std::tolower would consult the locale per byte.
constexpr char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ParseState parse_response(std::string_view data, ParsedResponse& out) {
  auto end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return data.size() > 64 * 1024 ? ParseState::malformed : ParseState::incomplete;
  out = ParsedResponse{};
  out.header_bytes = end + 4;
  std::string_view head = data.substr(0, end);
  // Status line: HTTP/1.x NNN reason
  if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.") return ParseState::malformed;
  if (std::from_chars(head.data() + 9, head.data() + 12, out.status).ec != std::errc{}) return ParseState::malformed;
  bool http10 = head[7] == '0';
  out.close = http10;
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    std::size_t start = pos + 2;
    std::size_t next = head.find("\r\n", start);
    std::string_view line = head.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    pos = next;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      if (std::from_chars(value.data(), value.data() + value.size(), out.body_bytes).ec != std::errc{})
        return ParseState::malformed;
    } else if (iequals(name, "connection")) {
      if (iequals(value, "close")) out.close = true;
      else if (iequals(value, "keep-alive")) out.close = false;
    } else if (iequals(name, "transfer-encoding")) {
      return ParseState::malformed;  // not needed by the servers under test
    }
  }
  return data.size() >= out.total() ? ParseState::complete : ParseState::incomplete;
}

}  // namespace lifeline::bench
