#pragma once
// The human sentence lifeline writes into the Crashed state's message, one per reason, e.g.
// "lifeline: no heartbeat from pod flow-run-abc-xyz12 on node node-7 since
// 2026-11-23T14:02:11Z (lease ttl 30s)". Pure.

#include <optional>
#include <string>

#include "reaper/reap/reap_job.hpp"

namespace lifeline::reaper::reap {

struct MessageContext {
  std::optional<WallTime> state_since;  // timestamp of the Running/Pending state (orphans)
  Duration grace{0};                    // orphan_grace or completion_grace, as applies
};

std::string crash_message(const ReapJob& job, const MessageContext& ctx);

// The AwaitingRetry message: "lifeline: retry 1 of 3 after crash (expired)".
std::string retry_message(const ReapJob& job, int attempt, int max_attempts);

}  // namespace lifeline::reaper::reap
