#pragma once
// Parsing of listen addresses ("0.0.0.0:8080") and http(s) base URLs.

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/result.hpp"

namespace lifeline {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;  // 0 = pick a free port
};

// "HOST:PORT" or "[v6]:PORT"; port 0 is allowed.
Result<HostPort> parse_host_port(std::string_view text);

struct HttpUrl {
  bool tls = false;        // https
  std::string host;
  std::uint16_t port = 0;  // defaulted to 80/443
  std::string base_path;   // without a trailing slash, e.g. "/api" or ""
  std::string host_header() const;  // "host:port" as sent in Host
};

// "http://host[:port][/base]" or "https://...".
Result<HttpUrl> parse_http_url(std::string_view text);

}  // namespace lifeline
