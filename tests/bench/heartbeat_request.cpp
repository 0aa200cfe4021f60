#include "tests/bench/heartbeat_request.hpp"

#include <charconv>
#include <cstdio>

namespace lifeline::bench {
namespace {

// A 64-bit mix (splitmix64's finaliser) so consecutive indexes give unrelated ids.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

std::string bench_run_id(std::uint32_t tag, std::uint64_t index) {
  std::uint64_t hi = mix((static_cast<std::uint64_t>(tag) << 32) ^ index);
  char buf[37];
  // Index in the last 12 hex digits keeps ids readable in logs; the tag and a hash fill
  // the rest. Version nibble 4, variant 10xx.
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", tag, static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>((hi >> 16) & 0xfff), static_cast<unsigned>(0x8000 | ((hi >> 28) & 0x3fff)),
                static_cast<unsigned long long>(index & 0xffffffffffffULL));
  return buf;
}

SimulatedSidecar bench_sidecar(std::uint32_t tag, std::uint64_t index) {
  return SimulatedSidecar{bench_run_id(tag, index), "bench-" + std::to_string(tag) + "-" + std::to_string(index),
                          "bench-node-" + std::to_string(index % 64)};
}

HeartbeatRequests::HeartbeatRequests(std::string host, std::string token, int ttl_seconds)
    : host_(std::move(host)), ttl_seconds_(ttl_seconds) {
  if (!token.empty()) auth_line_ = "Authorization: Bearer " + token + "\r\n";
}

void HeartbeatRequests::head(std::string& out, std::string_view method, std::string_view path_prefix,
                             const SimulatedSidecar& s, std::string_view path_suffix, std::size_t body_size) const {
  out.append(method).append(" ").append(path_prefix).append(s.run_id).append(path_suffix);
  out.append(" HTTP/1.1\r\nHost: ").append(host_).append("\r\nContent-Type: application/json\r\n");
  out.append(auth_line_).append("Content-Length: ");
  append_number(out, static_cast<std::int64_t>(body_size));
  out.append("\r\n\r\n");
}

void HeartbeatRequests::renew(std::string& out, const SimulatedSidecar& s, std::int64_t seq,
                              std::string_view phase) const {
  std::string body;
  body.reserve(160);
  body.append(R"({"holder":")").append(s.holder).append(R"(","node":")").append(s.node);
  body.append(R"(","ttl_seconds":)");
  append_number(body, ttl_seconds_);
  body.append(R"(,"seq":)");
  append_number(body, seq);
  body.append(R"(,"phase":")").append(phase).append(R"("})");
  out.clear();
  head(out, "PUT", "/v1/leases/", s, "", body.size());
  out.append(body);
}

void HeartbeatRequests::release(std::string& out, const SimulatedSidecar& s, std::string_view outcome,
                                int exit_code) const {
  std::string body;
  body.append(R"({"holder":")").append(s.holder).append(R"(","outcome":")").append(outcome);
  body.append(R"(","exit_code":)");
  append_number(body, exit_code);
  body.append("}");
  out.clear();
  head(out, "POST", "/v1/leases/", s, "/release", body.size());
  out.append(body);
}

}  // namespace lifeline::bench
