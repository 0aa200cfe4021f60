#pragma once
// Carries one claimed dead-run job through the pipeline: read the run, ask the planner,
// perform its action against Prefect, persist the job, repeat until it ends or must wait.
// Before each step it re-reads the run, so a job resumed after a crash (here or on another
// replica) recognises what it already did from the run's state and its transition ids.
// Transient Prefect failures put the job back with backoff (nothing is lost); a drain
// request (stopping) finishes the current step and puts the job back.
// Thread-safety: not thread-safe; one per worker thread (it owns its Prefect client and
// database connection through the references it is given).

#include <atomic>
#include <string>

#include "reaper/config.hpp"
#include "reaper/metrics.hpp"
#include "reaper/prefect/prefect_api.hpp"
#include "reaper/reap/deployment_names.hpp"
#include "reaper/reap/reap_planner.hpp"
#include "reaper/reap/reap_store.hpp"
#include "shared/log.hpp"

namespace lifeline::reaper::reap {

// How a job left the worker.
enum class JobEnd {
  finished,    // done, skipped or failed: recorded
  deferred,    // put back for later (Prefect unavailable, or draining)
  claim_lost,  // another replica holds the job now
  db_error,    // the database failed; the claim will lapse and the job be resumed
};

// Called when a job crashed a run or scheduled its retry, so the run-status cache can drop
// what it knew about the run.
class RunChangeListener {
 public:
  virtual ~RunChangeListener() = default;
  virtual void run_changed(const std::string& run_id) = 0;
};

class ReapWorker {
 public:
  ReapWorker(prefect::PrefectApi& prefect, ReapStore& store, ReaperMetrics& metrics, const Logger& log,
             const Clock& clock, DeploymentNames& deployment_names, RunChangeListener* listener);

  JobEnd run(ReapJob job, const Config& config, const std::atomic<bool>& stopping);

 private:
  struct Step;  // the per-call state of run()
  JobEnd finish(Step& s, ReapStep final_step, const std::string& outcome, const std::string& decision,
                const std::string& why, const nlohmann::json& answer, bool retry_applied);
  JobEnd defer(Step& s, const Error& e);
  JobEnd fail(Step& s, const Error& e);
  EffectivePolicy policy_for(const prefect::FlowRun* run, const Config& config);
  // Crashes task runs and in-process subflows, probes the deployment concurrency lease.
  Status free_slots(ReapJob& job, nlohmann::json& answers);
  // Decides the retry for a run just crashed (retries used so far read from the store) and
  // records the plan in the job, which moves on to `freeing`. Returns the decision.
  Result<RetryDecision> plan_retry(ReapJob& job, PlanContext& ctx);
  void emit_event(const Step& s, const std::string& outcome, const std::string& why);
  double sample();

  prefect::PrefectApi& prefect_;
  ReapStore& store_;
  ReaperMetrics& metrics_;
  const Logger& log_;
  const Clock& clock_;
  DeploymentNames& deployment_names_;
  RunChangeListener* listener_;
};

}  // namespace lifeline::reaper::reap
