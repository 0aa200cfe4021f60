#pragma once
// The reap decisions, as pure functions: given a dead-run job, the run as just read from
// Prefect, the policy and the attempts already used, what to do next. The workers
// (reap_worker.hpp) perform the actions and persist the job between them; nothing here does
// I/O, so every rule is tested on a fake clock.
//
// Rules (see docs/reaping.md and PREFECT-NOTES.md):
// - act only on a run that is RUNNING (or PENDING) in the incarnation the dead lease belonged
//   to: skip terminal, PAUSED, CANCELLING and SCHEDULED runs, and runs that entered their
//   current state after the lease ended (a newer attempt);
// - propose CRASHED with a deterministic transition id; a resumed job re-reads the run and
//   recognises its own proposal by that id instead of sending it again;
// - reschedule (AwaitingRetry) only while the run's current state is the Crashed state
//   lifeline wrote, the run has a deployment, and the policy allows another attempt.

#include <optional>
#include <string>

#include "reaper/prefect/prefect_types.hpp"
#include "reaper/reap/policy_matcher.hpp"
#include "reaper/reap/reap_job.hpp"

namespace lifeline::reaper::reap {

struct PlanContext {
  EffectivePolicy policy;
  int retries_used = 0;            // AwaitingRetry states lifeline already scheduled for this run
  WallTime now{};
  double jitter_sample = 0.5;      // uniform in [0, 1)
  Duration completion_grace{0};
  Duration clock_slack{2'000};     // tolerated skew between Prefect's and the database's clocks
};

enum class ActionKind {
  skip,        // leave the run alone; the job ends (step skipped)
  crash,       // propose CRASHED
  free_slots,  // crash task runs and in-process subflows, probe the deployment lease
  reschedule,  // propose SCHEDULED/AwaitingRetry
  finish,      // nothing more to send; the job ends (step done)
};

struct ReapAction {
  ActionKind kind = ActionKind::skip;
  std::string outcome;  // lifeline_reaper_reaps_total{outcome} when the job ends here
  std::string why;      // one sentence for the audit table and the log

  // crash
  std::string seen_state_id;
  std::string transition_id;  // crash or reschedule
  std::string message;        // crash or reschedule
  std::string deployment_id;
  std::string concurrency_lease_id;

  // reschedule
  std::optional<WallTime> scheduled_time;

  // finish: the AwaitingRetry proposal is already the run's state (count it as scheduled)
  bool retry_applied = false;
};

// The next action for `job` at its current step. `run` is the run as read just now
// (nullptr: Prefect answered 404); unused for the freeing step.
ReapAction plan_step(const ReapJob& job, const prefect::FlowRun* run, const PlanContext& ctx);

struct RetryDecision {
  bool retry = false;
  std::string why;
  int attempt = 0;  // 1-based number of this retry
  std::string transition_id;
  std::optional<WallTime> scheduled_time;
  std::string message;
};

// Whether a crashed run gets another attempt; decided once, right after the crash is
// confirmed, and persisted with the job (so a resumed job keeps the same scheduled time).
RetryDecision decide_retry(const ReapJob& job, const PlanContext& ctx);

// A set_state answer that lets the pipeline go on: ACCEPT, or the REJECT that says this very
// transition was already made (our earlier proposal is the run's current state).
bool proposal_applied(const prefect::OrchestrationResult& r);

}  // namespace lifeline::reaper::reap
