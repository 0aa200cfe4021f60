// Fuzzes the sidecar's decoding of the reaper's heartbeat answers: any status and body
// must decode to renewed, stop or failed, never crash; "renewed" needs a positive TTL,
// and stop and failed always say why (the sidecar logs it).
//
// Input: byte 0 picks the HTTP status: below 0xf0 one of eight mostly-200 statuses (the
// answers worth decoding), from 0xf0 on any status 100-599 taken from byte 1 as well;
// the rest is the body.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sidecar/heartbeat_protocol.hpp"

namespace {

void check(bool ok, const char* what, int status, const std::string& body) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_heartbeat_answer: %s (status %d, body %s)\n", what, status, body.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static constexpr int kStatuses[] = {200, 200, 200, 200, 409, 503, 401, 500};
  const int status = data[0] < 0xf0 ? kStatuses[data[0] % 8] : 100 + ((data[0] << 8) | data[1]) % 500;
  const std::size_t skip = data[0] < 0xf0 ? 1 : 2;
  const std::string body(reinterpret_cast<const char*>(data) + skip, size - skip);
  using Kind = lifeline::sidecar::HeartbeatAnswer::Kind;
  const auto a = lifeline::sidecar::decode_heartbeat_answer(status, body);
  switch (a.kind) {
    case Kind::renewed:
      check(status == 200, "renewed on a status other than 200", status, body);
      check(a.granted_ttl.count() > 0, "renewed without a positive TTL", status, body);
      break;
    case Kind::stop:
      check(status == 200 || status == 409, "stop on a status other than 200 or 409", status, body);
      check(!a.reason.empty(), "stop without a reason", status, body);
      break;
    case Kind::failed:
      check(status != 409, "409 not treated as stop", status, body);
      check(!a.reason.empty(), "failed without a reason", status, body);
      break;
  }
  return 0;
}
