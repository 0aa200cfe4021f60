#pragma once
// Plain HTTP request and response values handed to and returned by handlers, so that
// handlers are testable without sockets.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lifeline::http {

struct Request {
  std::string method;         // "GET", "PUT", ...
  std::string path;           // target without the query, e.g. "/v1/leases/abc"
  std::string query;          // after '?', undecoded
  std::string content_type;   // Content-Type header, as sent
  std::string authorization;  // Authorization header, as sent
  std::string body;
  std::string remote;         // peer address, for logs

  // The value of `key` in the query string, or empty.
  std::string query_param(std::string_view key) const;
};

struct Response {
  int status = 200;
  // A literal with static storage: content types are constants (a std::string would cost
  // an allocation per answer, "application/json" being one character past the SSO limit).
  std::string_view content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this answer
};

// {"error": code, "detail": detail} with `status`.
Response json_error(int status, std::string_view code, std::string_view detail);

// Quotes and escapes `s` as a JSON string.
std::string json_quote(std::string_view s);

}  // namespace lifeline::http
