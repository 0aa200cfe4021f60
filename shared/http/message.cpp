#include "shared/http/message.hpp"

#include "shared/quoted_text.hpp"

namespace lifeline::http {

std::string Request::query_param(std::string_view key) const {
  std::string_view q = query;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

std::string json_quote(std::string_view s) {
  std::string out;
  append_quoted(out, s, ControlChars::json_escape);
  return out;
}

Response json_error(int status, std::string_view code, std::string_view detail) {
  Response r;
  r.status = status;
  r.body = "{\"error\":" + json_quote(code) + ",\"detail\":" + json_quote(detail) + "}";
  return r;
}

}  // namespace lifeline::http
