#include "reaper/reap/reap_planner.hpp"

#include "reaper/reap/backoff.hpp"
#include "reaper/reap/reap_messages.hpp"
#include "reaper/reap/transition_ids.hpp"
#include "shared/time_format.hpp"

namespace lifeline::reaper::reap {

using prefect::FlowRun;
using prefect::RunState;

namespace {

ReapAction skip(std::string outcome, std::string why) {
  ReapAction a;
  a.kind = ActionKind::skip;
  a.outcome = std::move(outcome);
  a.why = std::move(why);
  return a;
}

ReapAction finish(std::string outcome, std::string why, bool retry_applied = false) {
  ReapAction a;
  a.kind = ActionKind::finish;
  a.outcome = std::move(outcome);
  a.why = std::move(why);
  a.retry_applied = retry_applied;
  return a;
}

std::string describe(const RunState& s) {
  std::string d = s.type;
  if (!s.name.empty() && s.name != s.type) d += " (" + s.name + ")";
  return d;
}

// Why a run that is not RUNNING/PENDING is left alone; nullopt when it is.
std::optional<ReapAction> skip_for_state(const RunState& s) {
  if (prefect::is_terminal_state(s.type))
    return skip("skipped_terminal", "run is already in terminal state " + describe(s));
  if (s.type == "PAUSED") return skip("skipped_paused", "run is PAUSED (a suspended run legitimately has no pod)");
  if (s.type == "CANCELLING") return skip("skipped_cancelling", "run is CANCELLING; Prefect is cancelling it");
  if (s.type == "SCHEDULED")
    return skip("skipped_rescheduled", "run was already rescheduled (" + describe(s) + "), by Prefect or someone else");
  if (s.type != "RUNNING" && s.type != "PENDING")
    return skip("skipped_terminal", "run is in state " + describe(s) + ", which lifeline does not act on");
  return std::nullopt;
}

bool is_lease_reason(ReapReason r) {
  return r == ReapReason::expired || r == ReapReason::evicted || r == ReapReason::exit_code ||
         r == ReapReason::incomplete;
}

ReapAction crash_action(const ReapJob& job, const FlowRun& run, const PlanContext& ctx) {
  const RunState& s = *run.state;
  ReapAction a;
  a.kind = ActionKind::crash;
  a.outcome = "crashed";
  a.seen_state_id = s.id;
  a.transition_id = transition_id(job.run_id, s.id, "crash");
  MessageContext mc;
  mc.state_since = s.timestamp;
  mc.grace = job.reason == ReapReason::incomplete ? ctx.completion_grace : ctx.policy.orphan_grace;
  a.message = crash_message(job, mc);
  a.deployment_id = run.deployment_id;
  a.concurrency_lease_id = s.deployment_concurrency_lease_id;
  a.why = "run is " + describe(s) + "; " + a.message;
  return a;
}

ReapAction plan_crash(const ReapJob& job, const FlowRun* run, const PlanContext& ctx) {
  if (run == nullptr) return skip("not_found", "Prefect has no flow run with this id");
  if (!run->state) return skip("skipped_terminal", "run has no state");
  const RunState& s = *run->state;

  // Our own proposal is already the run's state (the job stopped after sending it).
  if (!job.crash_transition_id.empty() && s.transition_id == job.crash_transition_id) {
    ReapAction a;
    a.kind = ActionKind::free_slots;
    a.outcome = "crashed";
    a.why = "the Crashed state lifeline proposed is already the run's state";
    return a;
  }
  if (auto sk = skip_for_state(s)) return *sk;

  if (job.step == ReapStep::crashing || !job.seen_state_id.empty()) {
    // The state acted upon is known (a resumed crash, or an orphan found by the sweep):
    // act only while the run is still in exactly that state.
    if (s.id != job.seen_state_id)
      return skip("skipped_rescheduled", "run changed state since lifeline looked (now " + describe(s) + ")");
    return crash_action(job, *run, ctx);
  }

  if (is_lease_reason(job.reason) && s.timestamp && *s.timestamp > job.detected_at + ctx.clock_slack) {
    return skip("skipped_rescheduled", "run entered " + describe(s) + " at " + format_rfc3339(*s.timestamp, true) +
                                           ", after the lease ended: a newer attempt owns it");
  }
  if (job.reason == ReapReason::incomplete && s.type != "RUNNING")
    return skip("skipped_rescheduled", "run is " + describe(s) + ", not RUNNING, after its workload exited");
  if (job.reason == ReapReason::stuck_pending && s.type != "PENDING")
    return skip("skipped_rescheduled", "run is no longer PENDING (now " + describe(s) + ")");
  return crash_action(job, *run, ctx);
}

ReapAction plan_reschedule(const ReapJob& job, const FlowRun* run) {
  if (run == nullptr) return finish("crashed", "run vanished from Prefect after the crash; not rescheduled");
  if (!run->state) return finish("crashed", "run has no state after the crash; not rescheduled");
  const RunState& s = *run->state;
  if (!job.retry_transition_id.empty() && s.transition_id == job.retry_transition_id)
    return finish("crashed", "the AwaitingRetry lifeline proposed is already the run's state", true);
  const bool still_our_crash = (!job.crashed_state_id.empty() && s.id == job.crashed_state_id) ||
                               (!job.crash_transition_id.empty() && s.transition_id == job.crash_transition_id);
  if (!still_our_crash)
    return finish("crashed", "run moved on after the crash (now " + describe(s) + "); not rescheduled");
  ReapAction a;
  a.kind = ActionKind::reschedule;
  a.outcome = "crashed";
  a.transition_id = job.retry_transition_id;
  a.scheduled_time = job.scheduled_time;
  a.message = job.retry_message;
  a.why = "run is still in the Crashed state lifeline wrote; proposing AwaitingRetry";
  return a;
}

}  // namespace

ReapAction plan_step(const ReapJob& job, const FlowRun* run, const PlanContext& ctx) {
  switch (job.step) {
    case ReapStep::detected:
    case ReapStep::crashing:
      return plan_crash(job, run, ctx);
    case ReapStep::freeing: {
      ReapAction a;
      a.kind = ActionKind::free_slots;
      a.outcome = "crashed";
      a.why = "freeing what the crashed run held";
      return a;
    }
    case ReapStep::rescheduling:
      return plan_reschedule(job, run);
    case ReapStep::done:
    case ReapStep::skipped:
    case ReapStep::failed:
      break;
  }
  return finish("crashed", "job already finished");
}

RetryDecision decide_retry(const ReapJob& job, const PlanContext& ctx) {
  RetryDecision d;
  d.attempt = ctx.retries_used + 1;
  if (ctx.policy.max_attempts <= 0) {
    d.why = "policy allows no retries";
    return d;
  }
  if (ctx.retries_used >= ctx.policy.max_attempts) {
    d.why = "retries exhausted (" + std::to_string(ctx.retries_used) + " of " +
            std::to_string(ctx.policy.max_attempts) + " used)";
    return d;
  }
  if (job.deployment_id.empty()) {
    d.why = "run has no deployment; Prefect cannot reschedule it";
    return d;
  }
  d.retry = true;
  const Duration wait = retry_delay(ctx.policy, d.attempt, ctx.jitter_sample);
  d.scheduled_time = ctx.now + wait;
  d.transition_id = transition_id(job.run_id, job.seen_state_id, "reschedule");
  d.message = retry_message(job, d.attempt, ctx.policy.max_attempts);
  d.why = "retry " + std::to_string(d.attempt) + " of " + std::to_string(ctx.policy.max_attempts) + " in " +
          format_duration(wait);
  return d;
}

bool proposal_applied(const prefect::OrchestrationResult& r) { return r.accepted() || r.duplicate_transition(); }

}  // namespace lifeline::reaper::reap
