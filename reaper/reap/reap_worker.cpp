#include "reaper/reap/reap_worker.hpp"

#include <random>

#include "reaper/prefect/prefect_error.hpp"
#include "reaper/reap/backoff.hpp"
#include "reaper/reap/transition_ids.hpp"
#include "shared/time_format.hpp"
#include "shared/uuid.hpp"

namespace lifeline::reaper::reap {

using nlohmann::json;
using prefect::FlowRun;
using prefect::OrchestrationResult;
using prefect::StateProposal;

namespace {

// The first delay after a transient failure, and the longest.
constexpr Duration kTransientBase{500};
constexpr Duration kTransientCap{60'000};
constexpr int kMaxSubflowDepth = 5;

json answer_json(const char* call, const std::string& target, const OrchestrationResult& r) {
  json a = {{"call", call}, {"target", target}, {"http", r.http_status}, {"status", r.status}};
  if (!r.details_type.empty()) a["details"] = r.details_type;
  if (!r.reason.empty()) a["reason"] = r.reason;
  if (r.state) a["state"] = {{"id", r.state->id}, {"type", r.state->type}, {"name", r.state->name}};
  return a;
}

json error_json(const char* call, const Error& e) { return {{"call", call}, {"error", e.code}, {"detail", e.message}}; }

bool is_lease_job(const ReapJob& j) { return j.job_key.rfind("lease:", 0) == 0; }

}  // namespace

struct ReapWorker::Step {
  ReapJob job;
  const Config& config;
  Logger log;
  std::optional<WallTime> crashed_at;
  std::string run_name;
  HeldRecords held;  // written by the job's next save, finish or defer
};

ReapWorker::ReapWorker(prefect::PrefectApi& prefect, ReapStore& store, ReaperMetrics& metrics, const Logger& log,
                       const Clock& clock, DeploymentNames& deployment_names, RunChangeListener* listener)
    : prefect_(prefect),
      store_(store),
      metrics_(metrics),
      log_(log),
      clock_(clock),
      deployment_names_(deployment_names),
      listener_(listener) {}

double ReapWorker::sample() {
  // One engine per thread, seeded once: a worker is built per job, and seeding from
  // std::random_device on every job was a measurable share of the reaper's CPU.
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

EffectivePolicy ReapWorker::policy_for(const FlowRun* run, const Config& config) {
  RunTraits traits;
  if (run != nullptr) {
    traits.work_pool = run->work_pool_name;
    traits.tags = run->tags;
    if (!run->deployment_id.empty() && needs_deployment_name(config)) {
      if (auto name = deployment_names_.find(run->deployment_id)) {
        traits.deployment_name = *name;
      } else if (auto d = prefect_.read_deployment(run->deployment_id)) {
        deployment_names_.put(d->id, d->name);
        traits.deployment_name = d->name;
      }
      // A failed lookup matches no deployment glob: the run gets the defaults, which is
      // logged by the audit entry's policy line.
    }
  }
  return resolve_policy(config, traits);
}

JobEnd ReapWorker::finish(Step& s, ReapStep final_step, const std::string& outcome, const std::string& decision,
                          const std::string& why, const json& answer, bool retry_applied) {
  AuditEntry audit{decision, why, answer.is_null() ? json() : answer};
  auto r = store_.finish(s.job, final_step, outcome, audit, answer, retry_applied, s.crashed_at, s.held);
  if (!r) {
    s.log.warn("could not record the end of a reap job", {{"error", r.error().message}});
    return JobEnd::db_error;
  }
  if (!*r) {
    s.log.info("reap job taken over by another replica");
    return JobEnd::claim_lost;
  }
  metrics_.reaps(std::string(to_string(s.job.reason)), outcome).Increment();
  if (retry_applied) metrics_.retries_scheduled().Increment();
  s.log.info("reap job finished", {{"step", std::string(to_string(final_step))}, {"outcome", outcome}, {"why", why}});
  if (outcome == "crashed") emit_event(s, outcome, why);
  return JobEnd::finished;
}

JobEnd ReapWorker::defer(Step& s, const Error& e) {
  s.job.failures += 1;
  const Duration wait = transient_delay(s.job.failures, kTransientBase, kTransientCap, sample());
  AuditEntry audit{"deferred", e.message, error_json("prefect", e)};
  auto r = store_.defer(s.job, wait, audit, s.held);
  if (r && *r) s.held = {};
  s.log.warn("Prefect unavailable; reap step deferred",
             {{"error", e.message}, {"retry_in", format_duration(wait)}, {"failures", s.job.failures}});
  if (!r) return JobEnd::db_error;
  return *r ? JobEnd::deferred : JobEnd::claim_lost;
}

JobEnd ReapWorker::fail(Step& s, const Error& e) {
  if (prefect::is_transient(e)) return defer(s, e);
  return finish(s, ReapStep::failed, "failed", "failed", e.message, error_json("prefect", e), false);
}

void ReapWorker::emit_event(const Step& s, const std::string& outcome, const std::string& why) {
  if (!s.config.prefect.emit_events || s.config.reaper.dry_run) return;
  prefect::EventSpec e;
  e.id = uuid_v4();
  e.event = "lifeline.run.reaped";
  e.occurred = clock_.wall_now();
  e.flow_run_id = s.job.run_id;
  e.flow_run_name = s.run_name;
  e.payload = {{"reason", std::string(to_string(s.job.reason))},
               {"outcome", outcome},
               {"why", why},
               {"holder", s.job.holder},
               {"node", s.job.node},
               {"retry_scheduled", s.job.retry_planned},
               {"freed_task_runs", s.job.freed_task_runs},
               {"freed_subflows", s.job.freed_subflows}};
  if (auto r = prefect_.emit_events(json::array({prefect::event_json(e)})); !r)
    s.log.warn("could not emit the lifeline.run.reaped event", {{"error", r.error().message}});
}

Status ReapWorker::free_slots(ReapJob& job, json& answers) {
  const std::string note = "lifeline: parent flow run " + job.run_id + " crashed";
  // In-process subflows, level by level (their own task runs are freed below).
  std::vector<std::string> flow_ids{job.run_id};
  std::vector<std::string> parents{job.run_id};
  for (int depth = 0; depth < kMaxSubflowDepth && !parents.empty(); ++depth) {
    std::vector<FlowRun> found;
    for (int offset = 0;; offset += prefect::kMaxPageSize) {
      auto page = prefect_.filter_flow_runs(prefect::subflow_runs_body(parents, prefect::kMaxPageSize, offset));
      if (!page) return page.error();
      found.insert(found.end(), page->begin(), page->end());
      if (static_cast<int>(page->size()) < prefect::kMaxPageSize) break;
    }
    parents.clear();
    for (const auto& sub : found) {
      const std::string sid = sub.state ? sub.state->id : "";
      auto r = prefect_.set_flow_run_state(
          sub.id, StateProposal{"CRASHED", "Crashed", note, transition_id(job.run_id, sid, "crash-subflow:" + sub.id), {}});
      if (!r) return r.error();
      answers.push_back(answer_json("set_flow_run_state", sub.id, *r));
      if (r->accepted()) job.freed_subflows += 1;
      parents.push_back(sub.id);
      flow_ids.push_back(sub.id);
    }
  }
  // Task runs still RUNNING or PENDING hold tag concurrency slots: crash them.
  std::vector<prefect::TaskRun> tasks;
  for (std::size_t chunk = 0; chunk < flow_ids.size(); chunk += prefect::kMaxPageSize) {
    std::vector<std::string> ids(flow_ids.begin() + static_cast<std::ptrdiff_t>(chunk),
                                 flow_ids.begin() + static_cast<std::ptrdiff_t>(
                                                        std::min(flow_ids.size(), chunk + prefect::kMaxPageSize)));
    for (int offset = 0;; offset += prefect::kMaxPageSize) {
      auto page = prefect_.filter_task_runs(prefect::active_task_runs_body(ids, prefect::kMaxPageSize, offset));
      if (!page) return page.error();
      tasks.insert(tasks.end(), page->begin(), page->end());
      if (static_cast<int>(page->size()) < prefect::kMaxPageSize) break;
    }
  }
  for (const auto& t : tasks) {
    const std::string sid = t.state ? t.state->id : "";
    auto r = prefect_.set_task_run_state(
        t.id, StateProposal{"CRASHED", "Crashed", note, transition_id(job.run_id, sid, "crash-task:" + t.id), {}});
    if (!r) return r.error();
    answers.push_back(answer_json("set_task_run_state", t.id, *r));
    if (r->accepted()) job.freed_task_runs += 1;
  }
  // The deployment concurrency slot: leaving RUNNING released it unless its lease had
  // already lapsed; record whether the lease still exists (see docs/reaping.md).
  if (!job.concurrency_lease_id.empty() && job.concurrency_lease_probe.empty()) {
    auto p = prefect_.probe_concurrency_lease(job.concurrency_lease_id);
    if (!p && prefect::is_transient(p.error())) return p.error();
    job.concurrency_lease_probe = !p ? "error" : (*p == prefect::LeaseProbe::exists ? "exists" : "gone");
    answers.push_back({{"call", "renew_concurrency_lease"}, {"target", job.concurrency_lease_id},
                       {"result", job.concurrency_lease_probe}});
  }
  return Ok{};
}

Result<RetryDecision> ReapWorker::plan_retry(ReapJob& job, PlanContext& ctx) {
  auto retries = store_.retries_used(job.run_id);
  if (!retries) return retries.error();
  ctx.retries_used = *retries;
  RetryDecision rd = decide_retry(job, ctx);
  job.retry_planned = rd.retry;
  job.retry_attempt = rd.attempt;
  job.retry_transition_id = rd.transition_id;
  job.scheduled_time = rd.scheduled_time;
  job.retry_message = rd.message;
  job.step = ReapStep::freeing;
  return rd;
}

JobEnd ReapWorker::run(ReapJob job, const Config& config, const std::atomic<bool>& stopping) {
  Step s{job, config, log_.with({{"run_id", job.run_id}, {"reason", std::string(to_string(job.reason))}}), {}, {}, {}};
  const bool dry_run = config.reaper.dry_run;

  while (true) {
    if (stopping.load()) {
      auto r = store_.defer(s.job, Duration{0}, AuditEntry{"drained", "reaper stopping; job left for later", {}},
                            s.held);
      return r && *r ? JobEnd::deferred : JobEnd::db_error;
    }

    // Re-read the run before every step that proposes a state.
    std::optional<FlowRun> run;
    if (s.job.step != ReapStep::freeing) {
      auto r = prefect_.read_flow_run(s.job.run_id);
      if (r) {
        run = std::move(r).value();
        s.run_name = run->name;
      } else if (r.error().code != prefect::errc::kNotFound) {
        return fail(s, r.error());
      }
    }
    // A lease taken over by a newer holder belongs to a live pod: leave the run alone.
    if (s.job.step == ReapStep::detected && is_lease_job(s.job)) {
      auto still = store_.lease_still_dead(s.job.run_id, s.job.lease_epoch);
      if (!still) return JobEnd::db_error;
      if (!*still)
        return finish(s, ReapStep::skipped, "skipped_rescheduled", "skip",
                      "the lease was taken over by a newer holder", nullptr, false);
    }

    PlanContext ctx;
    ctx.policy = policy_for(run ? &*run : nullptr, config);
    ctx.now = clock_.wall_now();
    ctx.jitter_sample = sample();
    ctx.completion_grace = config.leases.completion_grace;
    const ReapAction action = plan_step(s.job, run ? &*run : nullptr, ctx);

    switch (action.kind) {
      case ActionKind::skip:
        return finish(s, ReapStep::skipped, action.outcome, "skip", action.why, nullptr, false);

      case ActionKind::finish:
        return finish(s, ReapStep::done, action.outcome, action.retry_applied ? "retry_seen" : "done", action.why,
                      nullptr, action.retry_applied);

      case ActionKind::crash: {
        s.job.seen_state_id = action.seen_state_id;
        s.job.crash_transition_id = action.transition_id;
        s.job.deployment_id = action.deployment_id;
        s.job.concurrency_lease_id = action.concurrency_lease_id;
        if (dry_run) {
          auto retries = store_.retries_used(s.job.run_id);
          if (!retries) return JobEnd::db_error;
          ctx.retries_used = *retries;
          const RetryDecision rd = decide_retry(s.job, ctx);
          return finish(s, ReapStep::done, "dry_run", "dry_run",
                        "dry run: would propose CRASHED (\"" + action.message + "\"); then " +
                            (rd.retry ? "would reschedule: " : "would not reschedule: ") + rd.why,
                        nullptr, false);
        }
        // The intent is committed durably before the proposal: a job resumed after a crash
        // must know the transition id to recognise its own Crashed state.
        s.job.step = ReapStep::crashing;
        auto saved =
            store_.save(s.job, AuditEntry{"crash", action.why, {}}, nullptr, config.reaper.claim_timeout, true, s.held);
        if (!saved) return JobEnd::db_error;
        if (!*saved) return JobEnd::claim_lost;
        s.held = {};
        s.log.info("proposing CRASHED", {{"transition_id", action.transition_id}, {"message", action.message}});
        auto answer = prefect_.set_flow_run_state(
            s.job.run_id, StateProposal{"CRASHED", "Crashed", action.message, action.transition_id, {}});
        if (!answer) {
          if (answer.error().code == prefect::errc::kNotFound)
            return finish(s, ReapStep::skipped, "not_found", "skip", "run vanished from Prefect", nullptr, false);
          return fail(s, answer.error());
        }
        const json aj = answer_json("set_flow_run_state", s.job.run_id, *answer);
        if (answer->status == "WAIT") {
          return defer(s, make_error(prefect::errc::kUnavailable, "Prefect asked to wait: " + answer->reason));
        }
        if (!proposal_applied(*answer)) {
          return finish(s, ReapStep::skipped, "rejected", "crash_refused",
                        "Prefect answered " + answer->status + " to CRASHED: " + answer->reason, aj, false);
        }
        s.job.crashed_state_id = answer->state ? answer->state->id : "";
        s.crashed_at = clock_.wall_now();
        if (answer->accepted()) {
          metrics_.detection_delay().Observe(std::max(0.0, std::chrono::duration<double>(
                                                               *s.crashed_at - s.job.detected_at).count()));
        }
        if (listener_ != nullptr) listener_->run_changed(s.job.run_id);
        auto rd = plan_retry(s.job, ctx);
        if (!rd) return JobEnd::db_error;
        // Recorded with the next write, after the slots are freed, instead of in one of a
        // retried run's six statements. A replica that stops before that write resumes at
        // `crashing`, finds its own Crashed state and frees the slots again.
        s.held.audit.emplace_back(ReapStep::freeing,
                                  AuditEntry{answer->accepted() ? "crash_accepted" : "crash_duplicate",
                                             "CRASHED set; retry: " + rd->why, aj});
        s.held.answers.push_back(aj);
        continue;
      }

      case ActionKind::free_slots: {
        if (s.job.step != ReapStep::freeing) {
          // Resumed after the crash was applied but before it was recorded.
          s.job.crashed_state_id = run && run->state ? run->state->id : "";
          if (!plan_retry(s.job, ctx)) return JobEnd::db_error;
        }
        json answers = json::array();
        if (auto st = free_slots(s.job, answers); !st) return fail(s, st.error());
        const std::string why = "freed " + std::to_string(s.job.freed_task_runs) + " task run(s), " +
                                std::to_string(s.job.freed_subflows) + " subflow(s)" +
                                (s.job.concurrency_lease_probe.empty()
                                     ? std::string()
                                     : "; deployment concurrency lease " + s.job.concurrency_lease_probe);
        if (!s.job.retry_planned) {
          return finish(s, ReapStep::done, "crashed", "freed", why + "; not rescheduled", answers, false);
        }
        s.job.step = ReapStep::rescheduling;
        auto ok = store_.save(s.job, AuditEntry{"freed", why, answers}, answers, config.reaper.claim_timeout, false,
                              s.held);
        if (!ok) return JobEnd::db_error;
        if (!*ok) return JobEnd::claim_lost;
        s.held = {};
        continue;
      }

      case ActionKind::reschedule: {
        s.log.info("proposing AwaitingRetry",
                   {{"transition_id", action.transition_id},
                    {"scheduled_time", action.scheduled_time ? format_rfc3339(*action.scheduled_time) : ""}});
        auto answer = prefect_.set_flow_run_state(
            s.job.run_id,
            StateProposal{"SCHEDULED", "AwaitingRetry", action.message, action.transition_id, action.scheduled_time});
        if (!answer) {
          if (answer.error().code == prefect::errc::kNotFound)
            return finish(s, ReapStep::done, "crashed", "done", "run vanished before its retry", nullptr, false);
          return fail(s, answer.error());
        }
        const json aj = answer_json("set_flow_run_state", s.job.run_id, *answer);
        if (answer->status == "WAIT")
          return defer(s, make_error(prefect::errc::kUnavailable, "Prefect asked to wait: " + answer->reason));
        if (!proposal_applied(*answer)) {
          return finish(s, ReapStep::done, "crashed", "retry_refused",
                        "Prefect answered " + answer->status + " to AwaitingRetry: " + answer->reason, aj, false);
        }
        if (listener_ != nullptr) listener_->run_changed(s.job.run_id);
        return finish(s, ReapStep::done, "crashed", "retry_scheduled",
                      "AwaitingRetry set for " +
                          (action.scheduled_time ? format_rfc3339(*action.scheduled_time, true) : std::string("now")) +
                          " (retry " + std::to_string(s.job.retry_attempt) + ")",
                      aj, true);
      }
    }
  }
}

}  // namespace lifeline::reaper::reap
