#pragma once
// Every SQL statement of the reap pipeline: detection (leases -> jobs), claims between
// replicas, step records, the outage rule, and the gauges. Tables: migration
// reaper/store/schema/002_reaps.sql. Only progress records that can be re-derived from
// Prefect are committed asynchronously (synchronous_commit off); the crash intent, which
// cannot, is committed durably before the CRASHED proposal is sent.
// Thread-safety: not thread-safe; one per connection, one connection per thread.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "reaper/reap/reap_job.hpp"
#include "reaper/store/pg_connection.hpp"

namespace lifeline::reaper::reap {

struct DetectReport {
  std::int64_t expired = 0;   // active leases moved to expired (each a new job)
  std::int64_t released = 0;  // evicted / non-zero releases turned into jobs
  // Time until the earliest active lease that is not yet expired expires (database clock),
  // so the scheduler can look again right then instead of at its next tick; nullopt: none.
  std::optional<Duration> next_expiry;
};

// Rows deleted by one retention pass, per table.
struct PurgeReport {
  std::int64_t audit = 0, completion_checks = 0, jobs = 0, leases = 0, run_attempts = 0;
  std::int64_t total() const { return audit + completion_checks + jobs + leases + run_attempts; }
};

struct OutageGrant {
  bool extended = false;                 // false: another replica swept recently
  std::int64_t leases = 0;               // active leases given a fresh TTL
  std::optional<double> last_sweep_age;  // seconds, when known
};

// A lease released with code 0 past completion_grace, not yet checked against Prefect.
struct CompletionCandidate {
  std::string run_id;
  std::int64_t epoch = 0;
  std::string holder, node;
  Duration ttl{0};
  std::optional<WallTime> last_renewed_at;
  WallTime released_at{};
};

// A run the orphan sweep found in Prefect.
struct OrphanCandidate {
  std::string run_id;
  ReapReason reason = ReapReason::orphan;  // orphan or stuck_pending
  std::string state_id;
  WallTime since{};                        // the state's timestamp
};

// One entry of the audit table.
struct AuditEntry {
  std::string decision;  // e.g. "crash", "skip", "crash_accepted", "deferred"
  std::string reason;
  nlohmann::json detail;  // null or an object (a Prefect answer, ...)
};

// Records a worker keeps until its job's next write, which stores them first: the answer to
// the CRASHED proposal is written with the next step's record instead of in a statement of
// its own (docs/reaping.md, "What a reaped run costs PostgreSQL").
struct HeldRecords {
  std::vector<std::pair<ReapStep, AuditEntry>> audit;  // in order, each with the step it was made at
  nlohmann::json answers = nlohmann::json::array();    // appended before the write's own answer
};

class ReapStore {
 public:
  ReapStore(store::PgConnection& conn, std::string replica, Duration timeout);

  // Session settings for a pipeline connection (asynchronous commit for re-derivable records).
  Status prepare_session();

  // The outage rule: unless some replica swept within `fresh`, gives every active lease
  // expires_at = greatest(expires_at, now() + ttl).
  Result<OutageGrant> grant_after_outage(Duration fresh);

  // One transaction: active leases past expires_at -> expired + jobs; evicted / non-zero
  // releases -> jobs; records the sweep time.
  Result<DetectReport> detect(std::size_t batch_size);

  Result<std::vector<CompletionCandidate>> completion_candidates(Duration completion_grace, std::size_t limit);
  Status record_completion_check(const std::string& run_id, std::int64_t epoch, const std::string& state_type);
  // A job with reason incomplete for a lease still released at `epoch`.
  Result<bool> insert_incomplete_job(const CompletionCandidate& c);

  // Of `run_ids`, those that have a lease row (any state).
  Result<std::vector<std::string>> runs_with_leases(const std::vector<std::string>& run_ids);
  // Jobs for orphans (skipped when a lease row appeared meanwhile); returns how many are new.
  Result<std::int64_t> insert_orphan_jobs(const std::vector<OrphanCandidate>& orphans);

  // Claims up to `limit` runnable jobs for this replica until now() + claim_timeout.
  Result<std::vector<ReapJob>> claim(std::size_t limit, Duration claim_timeout);

  // Records the job's progress (all recorded fields, step), appends `held.answers` and then
  // `answer` to its Prefect answers, extends the claim and audits `held.audit` then `audit`.
  // `durable`: commit synchronously. false when this replica no longer holds the claim
  // (another replica took the job over). finish and defer store `held` the same way.
  Result<bool> save(const ReapJob& job, const AuditEntry& audit, const nlohmann::json& answer,
                    Duration claim_timeout, bool durable, const HeldRecords& held = {});

  // Ends the job (step done/skipped/failed): records outcome, closes the lease (reaped),
  // counts the retry when `retry_applied`, audits; releases the claim.
  Result<bool> finish(const ReapJob& job, ReapStep final_step, const std::string& outcome,
                      const AuditEntry& audit, const nlohmann::json& answer, bool retry_applied,
                      const std::optional<WallTime>& crashed_at, const HeldRecords& held = {});

  // Puts the job back for later (transient failure or drain): next attempt after `delay`.
  Result<bool> defer(const ReapJob& job, Duration delay, const AuditEntry& audit, const HeldRecords& held = {});

  // Does the lease still belong to the dead incarnation (same epoch, expired or released)?
  Result<bool> lease_still_dead(const std::string& run_id, std::int64_t epoch);

  Result<int> retries_used(const std::string& run_id);

  // Leases per state (active, expired, terminating; with `with_finished` also released and
  // reaped, a full count), and unfinished jobs (the backlog).
  Result<std::map<std::string, std::int64_t>> lease_counts(bool with_finished);

  // Retention: deletes up to `limit` rows per table older than `retention` (audit rows,
  // completion checks, finished jobs, then finished leases without jobs or checks left, and
  // retry counts of runs without a lease row).
  Result<PurgeReport> purge(Duration retention, std::size_t limit);
  Result<std::int64_t> backlog();

 private:
  Result<store::PgResult> run(std::string_view sql, std::initializer_list<store::PgParam> params);
  // The pipeline's per-job statements, prepared on first use on this connection: parsing and
  // planning them on every call cost PostgreSQL more than executing them.
  Result<store::PgResult> run_prepared(const char* name, const std::string& sql,
                                       std::span<const store::PgParam> params);

  store::PgConnection& conn_;
  std::set<std::string, std::less<>> prepared_;
  std::string replica_;
  Duration timeout_;
};

}  // namespace lifeline::reaper::reap
