// Fuzzes the sidecar's decoding of the reaper's heartbeat answers: any status and body
// must decode to renewed, stop or failed, never crash; "renewed" needs a positive TTL,
// and stop and failed always say why (the sidecar logs it).
//
// Input: bytes 0-1 are the HTTP status (big-endian, reduced to 100-599; seeds use 200
// and 409); the rest is the body.
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
  const int status = 100 + ((data[0] << 8) | data[1]) % 500;
  const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
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
