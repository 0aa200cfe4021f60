#include "reaper/reap/reap_store.hpp"

#include <deque>

namespace lifeline::reaper::reap {

using store::PgParam;
using store::PgResult;

namespace {

// Owns the text of each parameter so the PgParam views stay valid for the call.
class Params {
 public:
  Params& text(std::string v) {
    values_.push_back(std::move(v));
    nulls_.push_back(false);
    return *this;
  }
  Params& opt(const std::optional<std::string>& v) {
    values_.push_back(v.value_or(""));
    nulls_.push_back(!v.has_value());
    return *this;
  }
  Params& num(std::int64_t v) { return text(std::to_string(v)); }
  Params& flag(bool v) { return text(v ? "true" : "false"); }
  Params& time(const std::optional<WallTime>& t) {
    if (!t) return opt(std::nullopt);
    return num(std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count());
  }
  Params& json(const nlohmann::json& j) {
    if (j.is_null()) return opt(std::nullopt);
    return text(j.dump());
  }
  std::vector<PgParam> view() const {
    std::vector<PgParam> out;
    for (std::size_t i = 0; i < values_.size(); ++i)
      out.push_back(nulls_[i] ? PgParam::null() : PgParam::text(values_[i]));
    return out;
  }

 private:
  std::deque<std::string> values_;
  std::vector<bool> nulls_;
};

std::optional<WallTime> time_col(const PgResult& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  return WallTime{std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(r.integer(row, col)))};
}

std::string str_col(const PgResult& r, int row, int col) {
  return r.is_null(row, col) ? std::string() : std::string(r.text(row, col));
}


#define MS(col) "(extract(epoch from " col ") * 1000)::bigint"

constexpr const char* kJobColumns =
    "r.run_id, r.job_key, r.lease_epoch, r.reason, r.step, r.holder, r.node, r.ttl_ms, " MS("r.last_renewed_at")
    ", r.exit_code, " MS("r.detected_at") ", r.seen_state_id, r.crash_transition_id, r.crashed_state_id, "
    "r.deployment_id, r.concurrency_lease_id, r.retry_planned, r.retry_transition_id, " MS("r.scheduled_time")
    ", r.retry_message, r.failures, r.retry_attempt, r.freed_task_runs, r.freed_subflows, "
    "coalesce(r.concurrency_lease, '')";

ReapJob job_from_row(const PgResult& r, int i) {
  ReapJob j;
  j.run_id = str_col(r, i, 0);
  j.job_key = str_col(r, i, 1);
  j.lease_epoch = r.integer(i, 2);
  j.reason = parse_reason(r.text(i, 3)).value_or(ReapReason::expired);
  j.step = parse_step(r.text(i, 4)).value_or(ReapStep::detected);
  j.holder = str_col(r, i, 5);
  j.node = str_col(r, i, 6);
  j.ttl = Duration{r.integer(i, 7)};
  j.last_renewed_at = time_col(r, i, 8);
  if (!r.is_null(i, 9)) j.exit_code = static_cast<int>(r.integer(i, 9));
  j.detected_at = time_col(r, i, 10).value_or(WallTime{});
  j.seen_state_id = str_col(r, i, 11);
  j.crash_transition_id = str_col(r, i, 12);
  j.crashed_state_id = str_col(r, i, 13);
  j.deployment_id = str_col(r, i, 14);
  j.concurrency_lease_id = str_col(r, i, 15);
  j.retry_planned = r.boolean(i, 16);
  j.retry_transition_id = str_col(r, i, 17);
  j.scheduled_time = time_col(r, i, 18);
  j.retry_message = str_col(r, i, 19);
  j.failures = static_cast<int>(r.integer(i, 20));
  j.retry_attempt = static_cast<int>(r.integer(i, 21));
  j.freed_task_runs = static_cast<int>(r.integer(i, 22));
  j.freed_subflows = static_cast<int>(r.integer(i, 23));
  j.concurrency_lease_probe = str_col(r, i, 24);
  return j;
}

nlohmann::json held_audit_json(const HeldRecords& held) {
  if (held.audit.empty()) return nullptr;
  auto out = nlohmann::json::array();
  for (const auto& [step, a] : held.audit) {
    nlohmann::json e = {{"step", std::string(to_string(step))}, {"decision", a.decision}, {"reason", a.reason}};
    if (!a.detail.is_null()) e["detail"] = a.detail;
    out.push_back(std::move(e));
  }
  return out;
}

// $1..$24: the job's recorded fields, the answer, the replica, the audit entry and the held
// records (each null when empty).
void job_params(Params& p, const ReapJob& j, const AuditEntry& a, const nlohmann::json& answer,
                const std::string& replica, const HeldRecords& held) {
  auto id = [](const std::string& s) { return s.empty() ? std::optional<std::string>() : std::optional(s); };
  p.text(j.run_id).text(j.job_key).text(std::string(to_string(j.step)));
  p.opt(id(j.seen_state_id)).opt(id(j.crash_transition_id)).opt(id(j.crashed_state_id));
  p.opt(id(j.deployment_id)).opt(id(j.concurrency_lease_id));
  p.flag(j.retry_planned).opt(id(j.retry_transition_id)).time(j.scheduled_time);
  p.text(j.retry_message).num(j.retry_attempt).num(j.failures).text(a.reason);
  p.json(answer).text(replica).opt(id(j.concurrency_lease_probe));
  p.num(j.freed_task_runs).num(j.freed_subflows).text(a.decision).json(a.detail);
  p.json(held_audit_json(held)).json(held.answers.empty() ? nlohmann::json() : held.answers);
}

constexpr const char* kSetJob =
    "step = $3, seen_state_id = $4::uuid, crash_transition_id = $5::uuid, crashed_state_id = $6::uuid, "
    "deployment_id = $7::uuid, concurrency_lease_id = $8::uuid, retry_planned = $9::boolean, "
    "retry_transition_id = $10::uuid, "
    "scheduled_time = to_timestamp($11::double precision / 1000), retry_message = $12, "
    "retry_attempt = $13::integer, failures = $14::integer, note = $15, "
    "answers = answers || coalesce($24::jsonb, '[]'::jsonb) "
    "          || CASE WHEN $16::jsonb IS NULL THEN '[]'::jsonb ELSE jsonb_build_array($16::jsonb) END, "
    "concurrency_lease = $18, freed_task_runs = $19::integer, freed_subflows = $20::integer, updated_at = now()";

constexpr const char* kWhereClaimed = " WHERE run_id = $1::uuid AND job_key = $2 AND claimed_by = $17 ";

// The held entries ($23, a JSON array), then this write's own, in that order of ids.
constexpr const char* kAuditInsert =
    " INSERT INTO lifeline_audit (run_id, job_key, replica, step, decision, reason, detail) "
    "SELECT j.run_id, j.job_key, $17, e.step, e.decision, e.reason, e.detail FROM j, "
    "  (SELECT h->>'step' AS step, h->>'decision' AS decision, coalesce(h->>'reason', '') AS reason, "
    "          h->'detail' AS detail, n "
    "   FROM jsonb_array_elements(coalesce($23::jsonb, '[]'::jsonb)) WITH ORDINALITY AS held(h, n) "
    "   UNION ALL SELECT $3, $21, $15, $22::jsonb, 9223372036854775807) e "
    "ORDER BY e.n RETURNING id";

}  // namespace

ReapStore::ReapStore(store::PgConnection& conn, std::string replica, Duration timeout)
    : conn_(conn), replica_(std::move(replica)), timeout_(timeout) {}

Result<PgResult> ReapStore::run(std::string_view sql, std::initializer_list<PgParam> params) {
  return conn_.exec(sql, std::span<const PgParam>(params.begin(), params.size()), timeout_);
}

Result<PgResult> ReapStore::run_prepared(const char* name, const std::string& sql, std::span<const PgParam> params) {
  if (!prepared_.contains(std::string_view(name))) {
    if (auto s = conn_.prepare(name, sql); !s) return s.error();
    prepared_.emplace(name);
  }
  return conn_.exec_prepared(name, params, timeout_);
}

Status ReapStore::prepare_session() {
  auto r = run("SET synchronous_commit TO off", {});
  if (!r) return r.error();
  return Ok{};
}

Result<OutageGrant> ReapStore::grant_after_outage(Duration fresh) {
  const std::string fresh_ms = std::to_string(fresh.count());
  // One statement: decide from the shared sweep time and extend in the same snapshot.
  auto r = run(
      "WITH s AS (SELECT extract(epoch from now() - last_sweep_at)::double precision AS age "
      "           FROM lifeline_reaper_state WHERE id = 1), "
      "ext AS (UPDATE lifeline_leases l SET expires_at = greatest(l.expires_at, now() + l.ttl_ms * interval '1 millisecond') "
      "        WHERE l.state = 'active' AND NOT EXISTS (SELECT 1 FROM s WHERE s.age IS NOT NULL "
      "              AND s.age * 1000 < $1::bigint) RETURNING 1) "
      "SELECT (SELECT age FROM s), (SELECT count(*) FROM ext), "
      "       NOT EXISTS (SELECT 1 FROM s WHERE s.age IS NOT NULL AND s.age * 1000 < $1::bigint)",
      {PgParam::text(fresh_ms)});
  if (!r) return r.error();
  OutageGrant g;
  if (!r->is_null(0, 0)) g.last_sweep_age = std::stod(std::string(r->text(0, 0)));
  g.leases = r->integer(0, 1);
  g.extended = r->boolean(0, 2);
  return g;
}

Result<DetectReport> ReapStore::detect(std::size_t batch_size) {
  const std::string limit = std::to_string(batch_size);
  auto r = run(
      "WITH due AS (SELECT run_id FROM lifeline_leases WHERE state = 'active' AND expires_at < now() "
      "             ORDER BY expires_at LIMIT $1::integer FOR UPDATE SKIP LOCKED), "
      "exp AS (UPDATE lifeline_leases l SET state = 'expired', state_changed_at = now() FROM due "
      "        WHERE l.run_id = due.run_id AND l.state = 'active' "
      "        RETURNING l.run_id, l.epoch, l.holder, l.node, l.ttl_ms, l.renewed_at, l.expires_at), "
      "ins_exp AS (INSERT INTO lifeline_reaps (run_id, job_key, lease_epoch, reason, holder, node, ttl_ms, "
      "                                        last_renewed_at, detected_at) "
      "            SELECT run_id, 'lease:' || epoch, epoch, 'expired', holder, node, ttl_ms, renewed_at, expires_at "
      "            FROM exp ON CONFLICT DO NOTHING RETURNING 1), "
      "ins_rel AS (INSERT INTO lifeline_reaps (run_id, job_key, lease_epoch, reason, holder, node, ttl_ms, "
      "                                        last_renewed_at, exit_code, detected_at) "
      "            SELECT l.run_id, 'lease:' || l.epoch, l.epoch, "
      "                   CASE WHEN l.release_outcome = 'evicted' THEN 'evicted' ELSE 'exit_code' END, "
      "                   l.holder, l.node, l.ttl_ms, l.renewed_at, l.exit_code, "
      "                   coalesce(l.released_at, l.state_changed_at) "
      "            FROM lifeline_leases l "
      "            WHERE l.state = 'released' AND NOT l.settled "
      "              AND (l.release_outcome = 'evicted' OR coalesce(l.exit_code, 0) <> 0) "
      "              AND NOT EXISTS (SELECT 1 FROM lifeline_reaps r "
      "                              WHERE r.run_id = l.run_id AND r.job_key = 'lease:' || l.epoch) "
      "            LIMIT $1::integer ON CONFLICT DO NOTHING RETURNING 1), "
      // Released leases both sweeps are done with (a job or a completion check exists) leave
      // the unsettled index; a job inserted by ins_rel above is settled on the next sweep.
      "settle AS (UPDATE lifeline_leases l SET settled = true "
      "           WHERE l.state = 'released' AND NOT l.settled "
      "             AND (EXISTS (SELECT 1 FROM lifeline_reaps r WHERE r.run_id = l.run_id AND r.job_key = 'lease:' || l.epoch) "
      "                  OR EXISTS (SELECT 1 FROM lifeline_completion_checks c "
      "                             WHERE c.run_id = l.run_id AND c.epoch = l.epoch))), "
      "sweep AS (UPDATE lifeline_reaper_state SET last_sweep_at = now(), last_sweep_by = $2 WHERE id = 1 RETURNING 1) "
      "SELECT (SELECT count(*) FROM ins_exp), (SELECT count(*) FROM ins_rel), (SELECT count(*) FROM sweep), "
      // The same scan of active leases as `due` (no index on expires_at: it would make every
      // renewal a non-HOT update); the statement's snapshot still shows `due` as active.
      "       (SELECT ceil(extract(epoch FROM min(expires_at) - now()) * 1000)::bigint "
      "        FROM lifeline_leases WHERE state = 'active' AND expires_at >= now())",
      {PgParam::text(limit), PgParam::text(replica_)});
  if (!r) return r.error();
  DetectReport report{r->integer(0, 0), r->integer(0, 1), std::nullopt};
  if (!r->is_null(0, 3)) report.next_expiry = Duration{r->integer(0, 3)};
  return report;
}

Result<std::vector<CompletionCandidate>> ReapStore::completion_candidates(Duration completion_grace,
                                                                          std::size_t limit) {
  const std::string grace = std::to_string(completion_grace.count());
  const std::string lim = std::to_string(limit);
  auto r = run(
      "SELECT l.run_id, l.epoch, l.holder, l.node, l.ttl_ms, " MS("l.renewed_at") ", "
      MS("coalesce(l.released_at, l.state_changed_at)") " FROM lifeline_leases l "
      "WHERE l.state = 'released' AND NOT l.settled AND coalesce(l.release_outcome, 'exited') = 'exited' "
      "  AND coalesce(l.exit_code, 0) = 0 "
      "  AND coalesce(l.released_at, l.state_changed_at) < now() - $1::bigint * interval '1 millisecond' "
      "  AND NOT EXISTS (SELECT 1 FROM lifeline_completion_checks c WHERE c.run_id = l.run_id AND c.epoch = l.epoch) "
      "  AND NOT EXISTS (SELECT 1 FROM lifeline_reaps r WHERE r.run_id = l.run_id AND r.job_key = 'lease:' || l.epoch) "
      "ORDER BY l.released_at LIMIT $2::integer",
      {PgParam::text(grace), PgParam::text(lim)});
  if (!r) return r.error();
  std::vector<CompletionCandidate> out;
  for (int i = 0; i < r->rows(); ++i) {
    CompletionCandidate c;
    c.run_id = str_col(*r, i, 0);
    c.epoch = r->integer(i, 1);
    c.holder = str_col(*r, i, 2);
    c.node = str_col(*r, i, 3);
    c.ttl = Duration{r->integer(i, 4)};
    c.last_renewed_at = time_col(*r, i, 5);
    c.released_at = time_col(*r, i, 6).value_or(WallTime{});
    out.push_back(std::move(c));
  }
  return out;
}

Status ReapStore::record_completion_check(const std::string& run_id, std::int64_t epoch,
                                          const std::string& state_type) {
  const std::string e = std::to_string(epoch);
  auto r = run(
      "INSERT INTO lifeline_completion_checks (run_id, epoch, state_type) VALUES ($1::uuid, $2::bigint, $3) "
      "ON CONFLICT DO NOTHING",
      {PgParam::text(run_id), PgParam::text(e), PgParam::text(state_type)});
  if (!r) return r.error();
  return Ok{};
}

Result<bool> ReapStore::insert_incomplete_job(const CompletionCandidate& c) {
  Params p;
  p.text(c.run_id).num(c.epoch).text(c.holder).text(c.node).num(c.ttl.count()).time(c.last_renewed_at).time(
      c.released_at);
  auto v = p.view();
  auto r = conn_.exec(
      "INSERT INTO lifeline_reaps (run_id, job_key, lease_epoch, reason, holder, node, ttl_ms, last_renewed_at, "
      "                            exit_code, detected_at) "
      "SELECT $1::uuid, 'lease:' || $2::bigint, $2::bigint, 'incomplete', $3, $4, $5::integer, "
      "       to_timestamp($6::double precision / 1000), 0, to_timestamp($7::double precision / 1000) "
      "WHERE EXISTS (SELECT 1 FROM lifeline_leases l WHERE l.run_id = $1::uuid AND l.epoch = $2::bigint "
      "              AND l.state = 'released') "
      "ON CONFLICT DO NOTHING RETURNING 1",
      v, timeout_);
  if (!r) return r.error();
  return r->rows() == 1;
}

Result<std::vector<std::string>> ReapStore::runs_with_leases(const std::vector<std::string>& run_ids) {
  std::string arr = "{";
  for (std::size_t i = 0; i < run_ids.size(); ++i) arr += (i ? "," : "") + run_ids[i];
  arr += "}";
  auto r = run("SELECT run_id FROM lifeline_leases WHERE run_id = ANY($1::uuid[])", {PgParam::text(arr)});
  if (!r) return r.error();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(str_col(*r, i, 0));
  return out;
}

Result<std::int64_t> ReapStore::insert_orphan_jobs(const std::vector<OrphanCandidate>& orphans) {
  std::int64_t created = 0;
  for (const auto& o : orphans) {
    Params p;
    const bool pending = o.reason == ReapReason::stuck_pending;
    p.text(o.run_id).text((pending ? "pending:" : "orphan:") + o.state_id).text(std::string(to_string(o.reason)));
    p.text(o.state_id);
    auto v = p.view();
    auto r = conn_.exec(
        "INSERT INTO lifeline_reaps (run_id, job_key, lease_epoch, reason, seen_state_id, detected_at) "
        "SELECT $1::uuid, $2, 0, $3, $4::uuid, now() "
        "WHERE NOT EXISTS (SELECT 1 FROM lifeline_leases l WHERE l.run_id = $1::uuid) "
        "ON CONFLICT DO NOTHING RETURNING 1",
        v, timeout_);
    if (!r) return r.error();
    created += r->rows();
  }
  return created;
}

Result<std::vector<ReapJob>> ReapStore::claim(std::size_t limit, Duration claim_timeout) {
  static const std::string sql =
      std::string("WITH c AS (SELECT run_id, job_key FROM lifeline_reaps "
                  "           WHERE finished_at IS NULL "
                  "             AND next_attempt_at <= now() "
                  "             AND (claim_until IS NULL OR claim_until < now()) "
                  "           ORDER BY detected_at LIMIT $1::integer FOR UPDATE SKIP LOCKED) "
                  "UPDATE lifeline_reaps r SET claimed_by = $2, "
                  "  claim_until = now() + $3::bigint * interval '1 millisecond', updated_at = now() "
                  "FROM c WHERE r.run_id = c.run_id AND r.job_key = c.job_key RETURNING ") +
      kJobColumns;
  const std::string lim = std::to_string(limit);
  const std::string ct = std::to_string(claim_timeout.count());
  const PgParam params[] = {PgParam::text(lim), PgParam::text(replica_), PgParam::text(ct)};
  auto r = run_prepared("reap_claim", sql, params);
  if (!r) return r.error();
  std::vector<ReapJob> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(job_from_row(*r, i));
  return out;
}

Result<bool> ReapStore::save(const ReapJob& job, const AuditEntry& audit, const nlohmann::json& answer,
                             Duration claim_timeout, bool durable, const HeldRecords& held) {
  Params p;
  job_params(p, job, audit, answer, replica_, held);
  p.num(claim_timeout.count());
  auto v = p.view();
  static const std::string update = std::string("UPDATE lifeline_reaps SET ") + kSetJob +
                             ", claim_until = now() + $25::bigint * interval '1 millisecond'" + kWhereClaimed;
  static const std::string sql = "WITH j AS (" + update + "RETURNING run_id, job_key)" + kAuditInsert;
  // The durable form commits synchronously although the session does not: set_config(...,
  // true) sets synchronous_commit for this statement's own transaction, which is what
  // BEGIN; SET LOCAL ...; COMMIT did in four round trips. The CTE is referenced by the
  // update so that it is evaluated before the commit.
  static const std::string durable_sql =
      "WITH sc AS (SELECT set_config('synchronous_commit', 'on', true) AS v), j AS (" + update +
      " AND (SELECT v FROM sc) = 'on' RETURNING run_id, job_key)" + kAuditInsert;
  auto r = durable ? run_prepared("reap_save_durable", durable_sql, v) : run_prepared("reap_save", sql, v);
  if (!r) return r.error();
  return r->rows() > 0;
}

Result<bool> ReapStore::finish(const ReapJob& job, ReapStep final_step, const std::string& outcome,
                               const AuditEntry& audit, const nlohmann::json& answer, bool retry_applied,
                               const std::optional<WallTime>& crashed_at, const HeldRecords& held) {
  ReapJob j = job;
  j.step = final_step;
  Params p;
  job_params(p, j, audit, answer, replica_, held);
  p.text(outcome).flag(retry_applied).time(crashed_at);
  auto v = p.view();
  static const std::string sql =
      std::string("WITH j AS (UPDATE lifeline_reaps SET ") + kSetJob +
      ", outcome = $25, finished_at = now(), claimed_by = NULL, claim_until = NULL, "
      "crashed_at = coalesce(crashed_at, to_timestamp($27::double precision / 1000))" +
      kWhereClaimed +
      "RETURNING run_id, job_key, lease_epoch), "
      "l AS (UPDATE lifeline_leases ls SET state = 'reaped', state_changed_at = now() FROM j "
      "      WHERE ls.run_id = j.run_id AND j.job_key LIKE 'lease:%' AND ls.epoch = j.lease_epoch "
      "        AND ls.state IN ('expired', 'released') RETURNING 1), "
      "a AS (INSERT INTO lifeline_run_attempts (run_id, attempts, last_scheduled_at) "
      "      SELECT run_id, 1, now() FROM j WHERE $26::boolean "
      "      ON CONFLICT (run_id) DO UPDATE SET attempts = lifeline_run_attempts.attempts + 1, "
      "        last_scheduled_at = now() RETURNING 1)" +
      kAuditInsert;
  auto r = run_prepared("reap_finish", sql, v);
  if (!r) return r.error();
  return r->rows() > 0;
}

Result<bool> ReapStore::defer(const ReapJob& job, Duration delay, const AuditEntry& audit,
                              const HeldRecords& held) {
  Params p;
  job_params(p, job, audit, nullptr, replica_, held);
  p.num(delay.count());
  auto v = p.view();
  static const std::string sql = std::string("WITH j AS (UPDATE lifeline_reaps SET ") + kSetJob +
                          ", next_attempt_at = now() + $25::bigint * interval '1 millisecond', "
                          "claimed_by = NULL, claim_until = NULL" +
                          kWhereClaimed + "RETURNING run_id, job_key)" + kAuditInsert;
  auto r = run_prepared("reap_defer", sql, v);
  if (!r) return r.error();
  return r->rows() > 0;
}

Result<bool> ReapStore::lease_still_dead(const std::string& run_id, std::int64_t epoch) {
  const std::string e = std::to_string(epoch);
  static const std::string sql =
      "SELECT 1 FROM lifeline_leases WHERE run_id = $1::uuid AND epoch = $2::bigint "
      "AND state IN ('expired', 'released')";
  const PgParam params[] = {PgParam::text(run_id), PgParam::text(e)};
  auto r = run_prepared("reap_lease_still_dead", sql, params);
  if (!r) return r.error();
  return r->rows() == 1;
}

Result<int> ReapStore::retries_used(const std::string& run_id) {
  static const std::string sql = "SELECT attempts FROM lifeline_run_attempts WHERE run_id = $1::uuid";
  const PgParam params[] = {PgParam::text(run_id)};
  auto r = run_prepared("reap_retries_used", sql, params);
  if (!r) return r.error();
  return r->rows() == 0 ? 0 : static_cast<int>(r->integer(0, 0));
}

Result<std::map<std::string, std::int64_t>> ReapStore::lease_counts(bool with_finished) {
  // Active and expired leases are bounded by the runs alive now (the state index finds
  // them); released and reaped ones by the retention, which can be millions of rows, so
  // the caller counts those less often.
  auto r = run(with_finished ? "SELECT state, count(*) FROM lifeline_leases GROUP BY state "
                               "UNION ALL SELECT 'terminating', count(*) FROM lifeline_leases "
                               "WHERE state = 'active' AND phase = 'terminating'"
                             : "SELECT state, count(*) FROM lifeline_leases WHERE state IN ('active', 'expired') "
                               "GROUP BY state "
                               "UNION ALL SELECT 'terminating', count(*) FROM lifeline_leases "
                               "WHERE state = 'active' AND phase = 'terminating'",
               {});
  if (!r) return r.error();
  std::map<std::string, std::int64_t> out{{"active", 0}, {"expired", 0}, {"terminating", 0}};
  if (with_finished) out.insert({{"released", 0}, {"reaped", 0}});
  for (int i = 0; i < r->rows(); ++i) out[std::string(r->text(i, 0))] = r->integer(i, 1);
  return out;
}

Result<PurgeReport> ReapStore::purge(Duration retention, std::size_t limit) {
  const std::string keep = std::to_string(retention.count());
  const std::string lim = std::to_string(limit);
  // Oldest first, at most `limit` rows per table, each through its own index. All parts see
  // the snapshot from before the statement: a lease whose last job is deleted here still
  // has it for `l` and goes on a later pass. A lease row is the last of a run to go
  // because its epoch restarts at 1 once the row is gone, and a new job key 'lease:1' must
  // not meet an old job of the same run.
  auto r = run(
      "WITH cutoff AS (SELECT now() - $1::bigint * interval '1 millisecond' AS t), "
      "a AS (DELETE FROM lifeline_audit WHERE id IN (SELECT id FROM lifeline_audit "
      "      WHERE at < (SELECT t FROM cutoff) ORDER BY at LIMIT $2::integer) RETURNING 1), "
      "c AS (DELETE FROM lifeline_completion_checks WHERE (run_id, epoch) IN (SELECT run_id, epoch "
      "      FROM lifeline_completion_checks WHERE checked_at < (SELECT t FROM cutoff) "
      "      ORDER BY checked_at LIMIT $2::integer) RETURNING 1), "
      "j AS (DELETE FROM lifeline_reaps WHERE (run_id, job_key) IN (SELECT run_id, job_key FROM lifeline_reaps "
      "      WHERE finished_at < (SELECT t FROM cutoff) ORDER BY finished_at LIMIT $2::integer) RETURNING 1), "
      "l AS (DELETE FROM lifeline_leases WHERE run_id IN (SELECT l.run_id FROM lifeline_leases l "
      "      WHERE l.state IN ('released', 'reaped') AND l.state_changed_at < (SELECT t FROM cutoff) "
      "        AND (l.state = 'reaped' OR l.settled) "
      "        AND NOT EXISTS (SELECT 1 FROM lifeline_reaps r WHERE r.run_id = l.run_id) "
      "        AND NOT EXISTS (SELECT 1 FROM lifeline_completion_checks k WHERE k.run_id = l.run_id) "
      "      ORDER BY l.state_changed_at LIMIT $2::integer) RETURNING 1), "
      "t AS (DELETE FROM lifeline_run_attempts WHERE run_id IN (SELECT x.run_id FROM lifeline_run_attempts x "
      "      WHERE x.last_scheduled_at < (SELECT t FROM cutoff) "
      "        AND NOT EXISTS (SELECT 1 FROM lifeline_leases y WHERE y.run_id = x.run_id) "
      "      ORDER BY x.last_scheduled_at LIMIT $2::integer) RETURNING 1) "
      "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM c), (SELECT count(*) FROM j), "
      "       (SELECT count(*) FROM l), (SELECT count(*) FROM t)",
      {PgParam::text(keep), PgParam::text(lim)});
  if (!r) return r.error();
  return PurgeReport{r->integer(0, 0), r->integer(0, 1), r->integer(0, 2), r->integer(0, 3), r->integer(0, 4)};
}

Result<std::int64_t> ReapStore::backlog() {
  auto r = run("SELECT count(*) FROM lifeline_reaps WHERE finished_at IS NULL",
               {});
  if (!r) return r.error();
  return r->integer(0, 0);
}

}  // namespace lifeline::reaper::reap
