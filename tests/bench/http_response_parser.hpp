#pragma once
// Just enough of an HTTP/1.1 response parser for a load generator: status code,
// Content-Length body, and whether the server will close the connection. No chunked
// bodies (the servers under test send Content-Length). Kept minimal so that the client
// spends far less CPU per request than the server it measures.
// Thread-safety: a plain value; one per connection.

#include <cstddef>
#include <string_view>

namespace lifeline::bench {

struct ParsedResponse {
  int status = 0;
  std::size_t header_bytes = 0;  // up to and including the blank line
  std::size_t body_bytes = 0;
  bool close = false;            // "Connection: close" was sent
  std::size_t total() const { return header_bytes + body_bytes; }
};

enum class ParseState { incomplete, complete, malformed };

// Parses the head of `data`. `complete` means the whole response (head and body) is in
// `data`; `incomplete` means read more.
ParseState parse_response(std::string_view data, ParsedResponse& out);

}  // namespace lifeline::bench
