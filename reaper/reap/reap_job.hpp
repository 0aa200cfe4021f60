#pragma once
// A dead run being handled: why it is dead, what the lease said, and how far the reap
// pipeline has got. The persisted form lives in lifeline_reaps (see reap_store.hpp); this is
// the value the planner and the workers pass around. Plain value type.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shared/clock.hpp"
#include "shared/duration.hpp"

namespace lifeline::reaper::reap {

enum class ReapReason {
  expired,        // the lease ran out: no heartbeat for a TTL
  evicted,        // released with outcome evicted (pod terminated by Kubernetes)
  exit_code,      // released with a non-zero exit code
  orphan,         // RUNNING in Prefect with no lease for orphan_grace
  stuck_pending,  // PENDING in Prefect for orphan_grace
  incomplete,     // released with code 0 but still RUNNING after completion_grace
};

// detected -> crashing -> freeing -> rescheduling -> done; or skipped / failed.
enum class ReapStep { detected, crashing, freeing, rescheduling, done, skipped, failed };

std::string_view to_string(ReapReason r);
std::string_view to_string(ReapStep s);
std::optional<ReapReason> parse_reason(std::string_view text);
std::optional<ReapStep> parse_step(std::string_view text);
bool is_final(ReapStep s);

struct ReapJob {
  std::string run_id;
  std::string job_key;             // unique per run: "lease:<epoch>", "orphan:<state id>", ...
  std::int64_t lease_epoch = 0;    // 0 for runs without a lease
  ReapReason reason = ReapReason::expired;
  ReapStep step = ReapStep::detected;

  // What the lease said (empty for orphans).
  std::string holder;
  std::string node;
  Duration ttl{0};
  std::optional<WallTime> last_renewed_at;
  std::optional<int> exit_code;
  WallTime detected_at{};          // lease expiry or release time; detection time for orphans

  // Recorded along the way.
  std::string seen_state_id;       // the RUNNING/PENDING state acted upon (orphans: from the sweep)
  std::string crash_transition_id;
  std::string crashed_state_id;
  std::string deployment_id;       // of the run, as read when crashing
  std::string concurrency_lease_id;  // state_details.deployment_concurrency_lease_id seen
  bool retry_planned = false;
  std::string retry_transition_id;
  std::optional<WallTime> scheduled_time;
  std::string retry_message;
  int retry_attempt = 0;           // 1-based number of the planned retry
  int freed_task_runs = 0;
  int freed_subflows = 0;
  std::string concurrency_lease_probe;  // "exists", "gone", "error" or "" (not probed)
  int failures = 0;                // transient failures so far (drives backoff)
};

}  // namespace lifeline::reaper::reap
