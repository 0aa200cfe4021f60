#include "tests/fakes/orchestration.hpp"

#include <chrono>
#include <cmath>

namespace lifeline::fake_prefect {

namespace {

bool in(StateType t, std::initializer_list<StateType> set) {
  for (StateType s : set) {
    if (s == t) return true;
  }
  return false;
}

Decision reject(std::string reason, std::optional<Replacement> replacement = std::nullopt) {
  Decision d;
  d.status = SetStateStatus::Reject;
  d.reason = std::move(reason);
  d.replacement = std::move(replacement);
  return d;
}

Decision abort_with(std::string reason) {
  Decision d;
  d.status = SetStateStatus::Abort;
  d.reason = std::move(reason);
  return d;
}

Decision wait_for(int seconds, std::string reason) {
  Decision d;
  d.status = SetStateStatus::Wait;
  d.delay_seconds = seconds;
  d.reason = std::move(reason);
  return d;
}

// ReleaseFlowConcurrencySlots: leaving PENDING/RUNNING/CANCELLING for anything else.
void mark_flow_release(const FlowRunContext& ctx, StateType proposed, Decision& d) {
  if (!ctx.current || !ctx.has_deployment) return;
  auto written = d.written_type(proposed);
  if (!written) return;
  bool from_holding = in(ctx.current->type, {StateType::Running, StateType::Cancelling, StateType::Pending});
  bool to_holding = in(*written, {StateType::Pending, StateType::Running, StateType::Cancelling});
  d.release_deployment_slot = from_holding && !to_holding;
}

// BypassCancellingFlowRunsWithNoInfra (in both the core and the minimal policy).
std::optional<Decision> bypass_cancelling(const FlowRunContext& ctx, const StateFacts& proposed) {
  if (!ctx.current || proposed.type != StateType::Cancelling) return std::nullopt;
  const StateFacts& cur = *ctx.current;
  if ((cur.type == StateType::Scheduled && !ctx.has_infrastructure_pid) || cur.name == "Resuming") {
    return reject("Scheduled flow run has no infrastructure to terminate.",
                  Replacement{StateType::Cancelled, "Cancelled", std::nullopt, std::nullopt});
  }
  if (cur.type == StateType::Paused && cur.pause_reschedule) {
    return reject("Suspended flow run has no infrastructure to terminate.",
                  Replacement{StateType::Cancelled, "Cancelled", std::nullopt, std::nullopt});
  }
  return std::nullopt;
}

std::optional<Decision> flow_core_rules(const FlowRunContext& ctx, const StateFacts& proposed,
                                        Decision& accepted) {
  if (!ctx.current) return std::nullopt;  // the first state of a run is always accepted
  const StateFacts& cur = *ctx.current;

  // PreventDuplicateTransitions
  if (cur.transition_id && proposed.transition_id && *cur.transition_id == *proposed.transition_id) {
    return reject("This run has already made this state transition.");
  }

  // HandleFlowTerminalStateTransitions
  if (is_terminal(cur.type)) {
    if (in(proposed.type, {StateType::Cancelling, StateType::Paused, StateType::Crashed})) {
      return abort_with("Run is already in terminal state " + std::string(to_string(cur.type)) + ".");
    }
    if (cur.type == StateType::Completed && !is_terminal(proposed.type) && cur.has_persisted_result) {
      return reject("Run is already COMPLETED.");
    }
    if (proposed.type == StateType::Scheduled && !ctx.has_deployment) {
      return abort_with("Cannot reschedule a run without an associated deployment.");
    }
    if (!is_terminal(proposed.type)) {
      accepted.reset_pause_metadata = true;
      accepted.set_retry_type = true;
      accepted.retry_type = proposed.type == StateType::Scheduled
                                ? std::optional<std::string>("reschedule")
                                : std::nullopt;
    }
  }

  // EnforceCancellingToCancelledTransition
  if (in(cur.type, {StateType::Cancelled, StateType::Cancelling}) &&
      proposed.type != StateType::Cancelled) {
    return reject("Cannot transition flows that are cancelling to a state other than Cancelled.");
  }

  if (auto d = bypass_cancelling(ctx, proposed)) return d;

  // PreventPendingTransitions
  if (proposed.type == StateType::Pending &&
      in(cur.type, {StateType::Pending, StateType::Cancelling, StateType::Running, StateType::Cancelled})) {
    return abort_with("This run is in a " + std::string(to_string(cur.type)) +
                      " state and cannot transition to a PENDING state.");
  }

  // SecureFlowConcurrencySlots
  if (proposed.type == StateType::Pending &&
      !in(cur.type, {StateType::Pending, StateType::Running, StateType::Cancelling})) {
    switch (ctx.deployment_slot) {
      case SlotAvailability::NoLimit:
        break;
      case SlotAvailability::ZeroLimit:
        return abort_with("The deployment concurrency limit is 0. The flow will deadlock if submitted again.");
      case SlotAvailability::Full:
        if (ctx.collision_strategy == CollisionStrategy::CancelNew) {
          return reject("Deployment concurrency limit reached.",
                        Replacement{StateType::Cancelled, "Cancelled", std::nullopt,
                                    "Deployment concurrency limit reached."});
        }
        return reject("Deployment concurrency limit reached.",
                      Replacement{StateType::Scheduled, "AwaitingConcurrencySlot",
                                  ctx.now + std::chrono::seconds(kDeploymentSlotWaitSeconds),
                                  std::nullopt});
      case SlotAvailability::Available:
        accepted.take_deployment_slot = true;
        break;
    }
  }

  // CopyDeploymentConcurrencyLeaseID
  if (cur.type == StateType::Pending && proposed.type == StateType::Running) {
    accepted.copy_lease_id = true;
  }

  // EnsureOnlyScheduledFlowsMarkedLate
  if (proposed.type == StateType::Scheduled && proposed.name == "Late" && cur.type != StateType::Scheduled) {
    return reject("Only scheduled flows can be marked late.");
  }

  // HandlePausingFlows
  if (proposed.type == StateType::Paused) {
    std::string verb = proposed.name == "Suspended" ? "suspend" : "pause";
    if (cur.type != StateType::Running) {
      return reject("Cannot " + verb + " flows that are not currently running.");
    }
    if (proposed.pause_key) {
      for (const auto& k : ctx.pause_keys) {
        if (k == *proposed.pause_key) return reject("This " + verb + " has already fired.");
      }
    }
    if (proposed.pause_reschedule) {
      if (ctx.has_parent_task_run) return abort_with("Cannot " + verb + " subflows.");
      if (!ctx.has_deployment) return abort_with("Cannot " + verb + " flows without a deployment.");
    }
    accepted.add_pause_key = proposed.pause_key;
  }

  // HandleResumingPausedFlows
  if (cur.type == StateType::Paused) {
    if (!(proposed.type == StateType::Running || proposed.type == StateType::Scheduled ||
          is_terminal(proposed.type))) {
      return reject("This run cannot transition to the " + std::string(to_string(proposed.type)) +
                    " state from the " + std::string(to_string(cur.type)) + " state.");
    }
    std::string display = proposed.name.empty() ? default_state_name(proposed.type) : proposed.name;
    for (auto& c : display) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (cur.pause_reschedule && !ctx.has_deployment) {
      return reject("Cannot reschedule a " + display + " flow run without a deployment.");
    }
    if (cur.pause_timeout && *cur.pause_timeout < ctx.now) {
      std::string verb = proposed.name == "Suspended" ? "suspend" : "pause";
      return reject("The flow run " + verb + " has timed out and can no longer resume.",
                    Replacement{StateType::Failed, "Failed", std::nullopt,
                                "The flow was " + display + " and never resumed."});
    }
    accepted.set_resuming = true;
  }

  // CopyScheduledTime
  if (cur.type == StateType::Scheduled && proposed.type == StateType::Pending && !proposed.scheduled_time) {
    accepted.copy_scheduled_time = true;
  }

  // WaitForScheduledTime
  if (in(cur.type, {StateType::Scheduled, StateType::Pending}) && proposed.type == StateType::Running &&
      cur.scheduled_time) {
    int delay = wait_seconds_until(*cur.scheduled_time, ctx.now);
    if (delay > 0) return wait_for(delay, "Scheduled time is in the future");
  }

  // RetryFailedFlows
  if (cur.type == StateType::Running && proposed.type == StateType::Failed) {
    if (!ctx.retries || ctx.run_count > *ctx.retries) {
      accepted.set_retry_type = true;
      accepted.retry_type = std::nullopt;
    } else {
      Decision d = reject("Retrying", Replacement{StateType::Scheduled, "AwaitingRetry",
                                                  ctx.now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                                std::chrono::duration<double>(ctx.retry_delay_seconds)),
                                                  proposed.message});
      d.reset_pause_metadata = true;
      d.set_retry_type = true;
      d.retry_type = "in_process";
      return d;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(SetStateStatus s) {
  switch (s) {
    case SetStateStatus::Accept: return "ACCEPT";
    case SetStateStatus::Reject: return "REJECT";
    case SetStateStatus::Abort: return "ABORT";
    case SetStateStatus::Wait: return "WAIT";
  }
  return "ACCEPT";
}

std::string_view details_type(SetStateStatus s) {
  switch (s) {
    case SetStateStatus::Accept: return "accept_details";
    case SetStateStatus::Reject: return "reject_details";
    case SetStateStatus::Abort: return "abort_details";
    case SetStateStatus::Wait: return "wait_details";
  }
  return "accept_details";
}

std::optional<StateType> Decision::written_type(StateType proposed) const {
  if (status == SetStateStatus::Accept) return proposed;
  if (status == SetStateStatus::Reject && replacement) return replacement->type;
  return std::nullopt;
}

int wait_seconds_until(WallTime scheduled, WallTime now) {
  // Python: floor(total_seconds) + round(microseconds / 1e6) on a timedelta, whose
  // microseconds part is always in [0, 1e6): i.e. whole seconds rounded half to even.
  auto delta = std::chrono::duration_cast<std::chrono::microseconds>(scheduled - now).count();
  long long whole = delta >= 0 ? delta / 1000000 : -((-delta + 999999) / 1000000);
  long long frac = delta - whole * 1000000;  // in [0, 1e6)
  long long extra = frac > 500000 ? 1 : 0;   // round(0.5) == 0 in Python
  return static_cast<int>(whole + extra);
}

Decision decide_flow_run_transition(const FlowRunContext& ctx, const StateFacts& proposed, bool force) {
  Decision accepted;
  if (force) {
    // MinimalFlowPolicy: only the cancelling bypass and the slot release.
    if (auto d = bypass_cancelling(ctx, proposed)) {
      mark_flow_release(ctx, proposed.type, *d);
      return *d;
    }
    mark_flow_release(ctx, proposed.type, accepted);
    return accepted;
  }
  if (auto d = flow_core_rules(ctx, proposed, accepted)) {
    // A rule replaced the outcome: the effects prepared by earlier rules are undone
    // ("cleanup" in Prefect), except those the deciding rule set itself.
    mark_flow_release(ctx, proposed.type, *d);
    return *d;
  }
  mark_flow_release(ctx, proposed.type, accepted);
  return accepted;
}

Decision decide_task_run_transition(const TaskRunContext& ctx, const StateFacts& proposed, bool force) {
  Decision accepted;
  auto finish = [&](Decision d) {
    auto written = d.written_type(proposed.type);
    d.release_tag_slots = written && *written != StateType::Running && *written != StateType::Cancelling;
    return d;
  };
  if (force || !ctx.current) return finish(accepted);  // MinimalTaskPolicy / first state
  const StateFacts& cur = *ctx.current;

  // HandleTaskTerminalStateTransitions
  if (is_terminal(cur.type)) {
    if (in(proposed.type, {StateType::Cancelling, StateType::Paused, StateType::Crashed})) {
      return finish(abort_with("Run is already " + std::string(to_string(cur.type)) + "."));
    }
    if (cur.type == StateType::Completed && cur.has_persisted_result) {
      return finish(reject("This run is already completed."));
    }
    if (!is_terminal(proposed.type)) accepted.reset_task_run_count = true;
  }

  int run_count = accepted.reset_task_run_count ? 0 : ctx.run_count;

  if (proposed.type == StateType::Running) {
    // PreventRunningTasksFromStoppedFlows
    if (ctx.has_flow_run) {
      if (!ctx.flow_run_state) {
        return finish(abort_with("The enclosing flow must be running to begin task execution."));
      }
      if (ctx.flow_run_state->type == StateType::Paused) {
        return finish(reject("The flow is paused, new tasks can execute after resuming flow run.",
                             Replacement{StateType::Paused, "NotReady", std::nullopt, std::nullopt}));
      }
      if (ctx.flow_run_state->type != StateType::Running) {
        return finish(abort_with("The enclosing flow must be running to begin task execution."));
      }
    }
    // SecureTaskConcurrencySlots (v2 limits named tag:<tag> in Prefect 3)
    std::string full;
    for (const auto& lim : ctx.tag_limits) {
      if (lim.limit == 0) {
        return finish(abort_with("The concurrency limit on tag \"" + lim.tag +
                                 "\" is 0 and will deadlock if the task tries to run again."));
      }
    }
    for (const auto& lim : ctx.tag_limits) {
      if (lim.held_by_this_run) continue;
      if (lim.active >= lim.limit) full += (full.empty() ? "" : ", ") + lim.tag;
      else accepted.take_tag_slots.push_back(lim.tag);
    }
    if (!full.empty()) {
      return finish(wait_for(kTagSlotWaitSeconds, "Concurrency limit reached for tags: " + full));
    }
  }

  // CopyScheduledTime
  if (cur.type == StateType::Scheduled && proposed.type == StateType::Pending && !proposed.scheduled_time) {
    accepted.copy_scheduled_time = true;
  }
  // WaitForScheduledTime
  if (in(cur.type, {StateType::Scheduled, StateType::Pending}) && proposed.type == StateType::Running &&
      cur.scheduled_time) {
    int delay = wait_seconds_until(*cur.scheduled_time, ctx.now);
    if (delay > 0) return finish(wait_for(delay, "Scheduled time is in the future"));
  }
  // RetryFailedTasks
  if (cur.type == StateType::Running && proposed.type == StateType::Failed &&
      proposed.retriable.value_or(true) && ctx.retries && run_count <= *ctx.retries) {
    return finish(reject("Retrying",
                         Replacement{StateType::Scheduled, "AwaitingRetry",
                                     ctx.now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                   std::chrono::duration<double>(ctx.retry_delay_seconds)),
                                     proposed.message}));
  }
  // RenameReruns
  if (proposed.type == StateType::Running && run_count > 0) {
    accepted.rename = cur.name == "AwaitingRetry" ? "Retrying" : "Rerunning";
  }
  return finish(accepted);
}

}  // namespace lifeline::fake_prefect
