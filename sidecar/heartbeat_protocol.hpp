#pragma once
// The heartbeat API of the contract as values: request bodies and the decoding of the
// reaper's answers. No I/O, so every answer shape is unit-tested.
// Thread-safety: pure functions.

#include <cstdint>
#include <string>

#include "shared/duration.hpp"
#include "shared/result.hpp"

namespace lifeline::sidecar {

enum class Phase { running, terminating };
enum class ReleaseOutcome { exited, evicted };

struct HeartbeatRequest {
  std::string holder;
  std::string node;
  Duration ttl;
  std::uint64_t seq = 0;
  Phase phase = Phase::running;
};

// What an answer means for the sidecar.
struct HeartbeatAnswer {
  enum class Kind {
    renewed,  // 200 with directive continue: the lease is held until sent + ttl
    stop,     // 200 with directive stop, or 409: stop the workload (exit 4)
    failed,   // anything else (503, 401, 5xx, garbage): counts as a lost heartbeat
  } kind = Kind::failed;
  std::int64_t epoch = 0;
  Duration granted_ttl{0};
  std::string reason;  // stop: the reaper's reason; failed: what went wrong
};

std::string heartbeat_body(const HeartbeatRequest& r);
std::string release_body(const std::string& holder, ReleaseOutcome outcome, int exit_code);

// "/v1/leases/{run_id}" under the reaper's base path.
std::string lease_path(const std::string& base_path, const std::string& run_id);
std::string release_path(const std::string& base_path, const std::string& run_id);

HeartbeatAnswer decode_heartbeat_answer(int status, const std::string& body);

const char* phase_name(Phase p);
const char* outcome_name(ReleaseOutcome o);

}  // namespace lifeline::sidecar
