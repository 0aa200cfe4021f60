#include "reaper/reap/reap_messages.hpp"

#include "shared/time_format.hpp"

namespace lifeline::reaper::reap {
namespace {

std::string pod_phrase(const ReapJob& job) {
  std::string s = "pod " + (job.holder.empty() ? std::string("(unknown)") : job.holder);
  if (!job.node.empty()) s += " on node " + job.node;
  return s;
}

std::string when(std::optional<WallTime> t) { return t ? format_rfc3339(*t, true) : std::string("(unknown)"); }

}  // namespace

std::string crash_message(const ReapJob& job, const MessageContext& ctx) {
  switch (job.reason) {
    case ReapReason::expired:
      return "lifeline: no heartbeat from " + pod_phrase(job) + " since " + when(job.last_renewed_at) +
             " (lease ttl " + format_duration(job.ttl) + ")";
    case ReapReason::evicted:
      return "lifeline: " + pod_phrase(job) + " was terminated (evicted) at " + when(job.detected_at) +
             " while the run was still running";
    case ReapReason::exit_code:
      return "lifeline: the workload in " + pod_phrase(job) + " exited with code " +
             std::to_string(job.exit_code.value_or(-1)) + " at " + when(job.detected_at) +
             " without reporting a final state";
    case ReapReason::orphan:
      return "lifeline: run RUNNING since " + when(ctx.state_since) +
             " with no lifeline heartbeat (orphan grace " + format_duration(ctx.grace) + ")";
    case ReapReason::stuck_pending:
      return "lifeline: run PENDING since " + when(ctx.state_since) + " and never started (grace " +
             format_duration(ctx.grace) + ")";
    case ReapReason::incomplete:
      return "lifeline: the workload in " + pod_phrase(job) + " exited with code 0 at " + when(job.detected_at) +
             " but the run never reported a final state (completion grace " + format_duration(ctx.grace) + ")";
  }
  return "lifeline: run declared dead";
}

std::string retry_message(const ReapJob& job, int attempt, int max_attempts) {
  return "lifeline: retry " + std::to_string(attempt) + " of " + std::to_string(max_attempts) +
         " after crash (" + std::string(to_string(job.reason)) + ")";
}

}  // namespace lifeline::reaper::reap
