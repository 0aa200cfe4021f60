#include "shared/address.hpp"

#include <charconv>

namespace lifeline {
namespace {

Result<std::uint16_t> parse_port(std::string_view p, std::string_view whole) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc{} || ptr != p.data() + p.size() || value > 65535)
    return make_error("bad_address", "invalid port in \"" + std::string(whole) + "\"");
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  std::size_t colon;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error("bad_address", "expected [IPv6]:PORT, got \"" + std::string(text) + "\"");
    hp.host = std::string(text.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      return make_error("bad_address", "expected HOST:PORT, got \"" + std::string(text) + "\"");
    hp.host = std::string(text.substr(0, colon));
  }
  auto port = parse_port(text.substr(colon + 1), text);
  if (!port) return port.error();
  hp.port = *port;
  return hp;
}

std::string HttpUrl::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if ((tls && port == 443) || (!tls && port == 80)) return h;
  return h + ":" + std::to_string(port);
}

Result<HttpUrl> parse_http_url(std::string_view text) {
  HttpUrl url;
  std::string_view rest;
  if (text.substr(0, 7) == "http://") {
    rest = text.substr(7);
  } else if (text.substr(0, 8) == "https://") {
    url.tls = true;
    rest = text.substr(8);
  } else {
    return make_error("bad_url", "URL \"" + std::string(text) + "\" must start with http:// or https://");
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.empty()) return make_error("bad_url", "URL \"" + std::string(text) + "\" has no host");
  url.port = url.tls ? 443 : 80;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return make_error("bad_url", "bad IPv6 host in \"" + std::string(text) + "\"");
    url.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return make_error("bad_url", "bad host in \"" + std::string(text) + "\"");
      auto p = parse_port(authority.substr(close + 2), text);
      if (!p) return p.error();
      url.port = *p;
    }
  } else {
    auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      auto p = parse_port(authority.substr(colon + 1), text);
      if (!p) return p.error();
      url.port = *p;
    }
  }
  if (url.host.empty()) return make_error("bad_url", "URL \"" + std::string(text) + "\" has no host");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = std::string(path);
  return url;
}

}  // namespace lifeline
