// Fuzzes the heartbeat API's request handling: the pure validation (parse_renew,
// parse_release) and LeaseApi::handle over it. The store is a LeaseBatcher that is
// never started, so every request that passes validation is answered 503 "the
// store is unavailable" at once: that answer is how the harness sees that a request
// reached the store, and it must never see it for a rejected one.
//
// Input: byte 0 chooses the shape (bit 0: release, else renew; bits 1, 2, 3: the run
// id, the Content-Type, the Authorization header come from the input, else they are
// valid; bit 4: the valid run id in upper case); then, as the shape says, up to three
// strings each ended by a backslash and one more character (FuzzedDataProvider's
// ConsumeRandomLengthString); the rest is the body. Seeds in corpus/fuzz_lease_request
// are mostly 0x00 (renew) or 0x01 (release) followed by a contract example body.
// Every body is also read by both JSON readers (the fast scan and nlohmann's parser),
// which must agree.
#include <fuzzer/FuzzedDataProvider.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fcntl.h>

#include <cstdlib>
#include <cstdio>
#include <optional>

#include "reaper/api/json_fields.hpp"
#include "reaper/api/lease_api.hpp"
#include "reaper/api/lease_request.hpp"
#include "shared/clock.hpp"
#include "shared/uuid.hpp"

namespace {

using namespace lifeline;
using namespace lifeline::reaper;
namespace asio = boost::asio;

constexpr const char* kRunId = "0d9c6a2e-5f3b-4c1a-9e8d-7b6a5c4d3e2f";
constexpr const char* kToken = "fuzz-token";

[[noreturn]] void fail(const char* what, const http::Response& r) {
  std::fprintf(stderr, "fuzz_lease_request: %s (status %d, body %s)\n", what, r.status, r.body.c_str());
  std::abort();
}

void check(bool ok, const char* what, const http::Response& r) {
  if (!ok) fail(what, r);
}

// Everything the API needs, built once: the fuzzer calls the target millions of times.
struct World {
  SystemClock clock;
  Logger log{clock, "fuzz", LogLevel::error, ::open("/dev/null", O_WRONLY | O_CLOEXEC)};
  ReaperMetrics metrics{"fuzz"};
  asio::io_context io;
  store::LeaseBatcher batcher{io.get_executor(), store::LeaseBatcher::Options{}, metrics, log};
  Config config = [] {
    Config c;
    c.server.token = kToken;
    return c;
  }();
  api::LeaseApi lease_api{config, batcher, metrics, log};

  http::Response handle(http::Request req) {
    std::optional<http::Response> out;
    io.restart();
    asio::co_spawn(io, lease_api.handle(req), [&](std::exception_ptr e, http::Response r) {
      if (e) std::rethrow_exception(e);  // an exception escaping the handler is a finding
      out = std::move(r);
    });
    io.run();
    if (!out) {
      std::fprintf(stderr, "fuzz_lease_request: handler never completed\n");
      std::abort();
    }
    return std::move(*out);
  }
};

World& world() {
  static World* w = new World();  // never destroyed: the batcher's thread was never started
  return *w;
}

// The renewal the validation accepted must respect the contract's bounds.
void check_renew(const store::RenewRequest& r, const LeasesConfig& leases, const http::Response& resp) {
  check(is_uuid(r.run_id) && r.run_id == normalize_uuid(r.run_id), "accepted run id is not a canonical UUID", resp);
  check(!r.holder.empty() && r.holder.size() <= api::kMaxNameLength, "accepted holder out of bounds", resp);
  check(r.node.size() <= api::kMaxNameLength, "accepted node out of bounds", resp);
  check(r.ttl >= leases.min_ttl && r.ttl <= leases.max_ttl, "granted TTL outside [min_ttl, max_ttl]", resp);
  check(r.seq >= 0, "accepted negative seq", resp);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t shape = data[0];
  FuzzedDataProvider in(data + 1, size - 1);
  const bool release = (shape & 0x01) != 0;
  std::string run_id = (shape & 0x02) != 0 ? in.ConsumeRandomLengthString(80) : kRunId;
  if ((shape & 0x10) != 0 && (shape & 0x02) == 0) {
    for (char& c : run_id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string content_type = (shape & 0x04) != 0 ? in.ConsumeRandomLengthString(80) : "application/json";
  std::string authorization =
      (shape & 0x08) != 0 ? in.ConsumeRandomLengthString(80) : std::string("Bearer ") + kToken;
  std::string body = in.ConsumeRemainingBytesAsString();

  // The fast scan of flat bodies must read every body exactly as nlohmann's parser does.
  {
    std::vector<api::JsonField> fast, full;
    const auto fast_shape = api::read_top_level(body, {"holder", "node", "ttl_seconds", "seq", "phase"}, fast);
    const auto full_shape = api::read_top_level_full(body, {"holder", "node", "ttl_seconds", "seq", "phase"}, full);
    check(fast_shape == full_shape, "fast and full JSON readers disagree on the shape", {});
    if (fast_shape == api::JsonShape::object) check(fast == full, "fast and full JSON readers disagree on a member", {});
  }

  World& w = world();
  http::Request req;
  req.method = release ? "POST" : "PUT";
  req.path = "/v1/leases/" + run_id + (release ? "/release" : "");
  req.content_type = content_type;
  req.authorization = authorization;
  req.body = body;
  req.remote = "fuzz";

  // What the answer must be, from the pure functions.
  const api::RouteMatch m = api::match_route(req.path);
  const bool routed = m.route == (release ? api::Route::release : api::Route::renew);
  const bool authorized = authorization == std::string("Bearer ") + kToken;
  std::optional<bool> accepted;  // set when the request gets as far as validation
  std::optional<store::RenewRequest> renewal;
  if (routed && authorized && api::is_json_content_type(content_type)) {
    if (release) {
      auto p = api::parse_release(m.run_id, body);
      accepted = p.ok();
      if (!p) check(p.error().code == "bad_request" && !p.error().message.empty(), "rejection without detail", {});
    } else {
      auto p = api::parse_renew(m.run_id, body, w.config.leases);
      accepted = p.ok();
      if (p) renewal = *p;
      else check(p.error().code == "bad_request" && !p.error().message.empty(), "rejection without detail", {});
    }
  }

  const double unavailable_before = w.metrics.heartbeats("unavailable").Value();
  http::Response resp = w.handle(req);
  const bool reached_store = w.metrics.heartbeats("unavailable").Value() != unavailable_before ||
                             resp.status == 503;

  if (accepted.value_or(false)) {
    // Accepted: the only way on is the (unavailable) store.
    check(resp.status == 503 && reached_store, "an accepted request did not reach the store", resp);
    if (renewal) check_renew(*renewal, w.config.leases, resp);
  } else {
    check(resp.status >= 400 && resp.status < 500, "a rejected request was not answered 4xx", resp);
    check(!reached_store, "a rejected request reached the store", resp);
    if (accepted) check(resp.status == 400, "a request failing validation was not answered 400", resp);
    else if (!routed) check(resp.status == 404 || resp.status == 405, "an unrouted request was not 404/405", resp);
    else if (!authorized) check(resp.status == 401, "an unauthorized request was not 401", resp);
    else check(resp.status == 415, "a request with a non-JSON Content-Type was not 415", resp);
  }
  return 0;
}
