#include "reaper/store/lease_store.hpp"

#include <unordered_map>

#include "reaper/store/batch_positions.hpp"
#include "reaper/store/pg_array.hpp"

namespace lifeline::reaper::store {
namespace {

// The lease rules of lease_rules.hpp, applied atomically per row. A row the WHERE
// clause rejects is simply not returned; the caller then classifies it. The epoch
// stays for the same holder and goes up by one on a takeover (the only other case the
// WHERE admits). now() is the transaction start, which is after the heartbeat arrived,
// so expires_at >= arrival + granted TTL.
//
// Why an upsert for every row and not a plain UPDATE ... FROM unnest(...) for the common
// case (the holder renewing its active lease): tried on 12-07. The UPDATE writes 105
// bytes of WAL per renewal instead of 162 (no separate row-lock record) and PostgreSQL
// alone spent 14 % less CPU per row, but it is a join, and its plan is the generic plan
// cached when the statement first ran often enough: on a new, empty table that is a hash
// join over every active lease (through the state index), kept until an ANALYZE. In the
// benchmark PostgreSQL then spent 40 us per renewal instead of 8. The upsert has no plan
// to get wrong: each row is one probe of the primary key.
constexpr const char* kRenewBatch = R"sql(
INSERT INTO lifeline_leases AS l
  (run_id, holder, node, epoch, seq, ttl_ms, phase, state, renewed_at, expires_at,
   created_at, state_changed_at)
SELECT r.run_id, r.holder, r.node, 1, r.seq, r.ttl_ms, r.phase, 'active', now(),
       now() + r.ttl_ms * interval '1 millisecond', now(), now()
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::integer[], $6::text[])
     AS r(run_id, holder, node, seq, ttl_ms, phase)
ON CONFLICT (run_id) DO UPDATE SET
  holder = excluded.holder,
  node = excluded.node,
  epoch = CASE WHEN l.holder = excluded.holder THEN l.epoch ELSE l.epoch + 1 END,
  seq = excluded.seq,
  ttl_ms = excluded.ttl_ms,
  phase = excluded.phase,
  state = 'active',
  renewed_at = excluded.renewed_at,
  expires_at = excluded.expires_at,
  state_changed_at = CASE WHEN l.holder = excluded.holder THEN l.state_changed_at
                          ELSE excluded.renewed_at END,
  released_at = CASE WHEN l.holder = excluded.holder THEN l.released_at END,
  release_outcome = CASE WHEN l.holder = excluded.holder THEN l.release_outcome END,
  exit_code = CASE WHEN l.holder = excluded.holder THEN l.exit_code END
WHERE (l.holder = excluded.holder AND l.state = 'active')
   OR (l.holder <> excluded.holder
       AND (l.state IN ('released', 'reaped') OR (l.state = 'active' AND l.expires_at < now())))
RETURNING l.run_id::text, l.epoch
)sql";

constexpr const char* kSnapshot = R"sql(
SELECT run_id::text, holder, epoch, state, expires_at < now()
FROM lifeline_leases WHERE run_id = ANY($1::uuid[])
)sql";

constexpr const char* kRelease = R"sql(
UPDATE lifeline_leases
SET state = 'released', released_at = now(), state_changed_at = now(), settled = false,
    release_outcome = $3, exit_code = $4::integer
WHERE run_id = $1::uuid AND holder = $2 AND state = 'active'
RETURNING epoch
)sql";

constexpr const char* kList = R"sql(
SELECT run_id::text, holder, node, epoch, seq, ttl_ms, phase, state,
       to_char(renewed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(state_changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(released_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       release_outcome, exit_code
FROM lifeline_leases
WHERE ($1::text IS NULL OR state = $1::text)
  AND ($2::text IS NULL OR holder = $2::text)
  AND ($3::text IS NULL OR node = $3::text)
ORDER BY state_changed_at DESC, run_id
LIMIT $4::integer
)sql";

const std::string kRenewName = "lifeline_renew_batch";
const std::string kSnapshotName = "lifeline_lease_snapshot";
const std::string kReleaseName = "lifeline_release";
const std::string kListName = "lifeline_list";

std::optional<LeaseSnapshot> snapshot_of(const PgResult& r, int row) {
  auto state = parse_lease_state(r.text(row, 3));
  if (!state) return std::nullopt;
  return LeaseSnapshot{std::string(r.text(row, 1)), r.integer(row, 2), *state, r.boolean(row, 4)};
}

}  // namespace

Status LeaseStore::prepare() {
  for (const auto& [name, sql] : {std::pair{kRenewName, kRenewBatch}, std::pair{kSnapshotName, kSnapshot},
                                  std::pair{kReleaseName, kRelease}, std::pair{kListName, kList}}) {
    if (auto s = conn_.prepare(name, sql); !s) return s;
  }
  return Ok{};
}

Result<std::vector<RenewResult>> LeaseStore::renew_batch(std::span<const RenewRequest> batch, Duration timeout) {
  PgArrayBuilder ids(oid::uuid, batch.size() * 20), holders(oid::text, batch.size() * 32),
      nodes(oid::text, batch.size() * 16), seqs(oid::int8, batch.size() * 12),
      ttls(oid::int4, batch.size() * 8), phases(oid::text, batch.size() * 12);
  for (const auto& r : batch) {
    ids.add_uuid(r.run_id);
    holders.add_text(r.holder);
    nodes.add_text(r.node);
    seqs.add_int8(r.seq);
    ttls.add_int4(static_cast<std::int32_t>(r.ttl.count()));
    phases.add_text(to_string(r.phase));
  }
  std::string a[] = {ids.finish(), holders.finish(), nodes.finish(), seqs.finish(), ttls.finish(), phases.finish()};
  const PgParam params[] = {
      PgParam::binary_of(a[0], oid::uuid_array), PgParam::binary_of(a[1], oid::text_array),
      PgParam::binary_of(a[2], oid::text_array), PgParam::binary_of(a[3], oid::int8_array),
      PgParam::binary_of(a[4], oid::int4_array), PgParam::binary_of(a[5], oid::text_array)};
  auto res = conn_.exec_prepared(kRenewName, params, timeout);
  if (!res) return res.error();

  BatchPositions index(batch);
  std::vector<RenewResult> out(batch.size());
  std::vector<bool> done(batch.size(), false);
  std::size_t renewed = 0;
  for (int row = 0; row < res->rows(); ++row) {
    auto i = index.find(res->text(row, 0));
    if (!i) continue;
    out[*i] = RenewResult{RenewStatus::renewed, res->integer(row, 1), batch[*i].ttl, {}};
    done[*i] = true;
    ++renewed;
  }
  if (renewed == batch.size()) return out;

  // Rows the rules refused: read them back (already committed; a read needs no lock)
  // and say why, with the same rules in C++.
  PgArrayBuilder missing(oid::uuid);
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!done[i]) missing.add_uuid(batch[i].run_id);
  std::string m = missing.finish();
  const PgParam sp[] = {PgParam::binary_of(m, oid::uuid_array)};
  auto snap = conn_.exec_prepared(kSnapshotName, sp, timeout);
  if (!snap) return snap.error();
  for (int row = 0; row < snap->rows(); ++row) {
    auto i = index.find(snap->text(row, 0));
    if (!i || done[*i]) continue;
    auto decision = decide_renewal(snapshot_of(*snap, row), batch[*i].holder);
    RenewResult& r = out[*i];
    r.epoch = decision.epoch;
    r.ttl = batch[*i].ttl;
    r.reason = decision.reason;
    switch (decision.verdict) {
      case RenewVerdict::stop: r.status = RenewStatus::stop; break;
      case RenewVerdict::conflict: r.status = RenewStatus::conflict; break;
      default:
        // The row changed between the upsert and this read (a release or expiry just
        // now): nothing was renewed, so the sidecar retries.
        r.status = RenewStatus::unavailable;
        r.reason = "lease changed concurrently; retry";
    }
    done[*i] = true;
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!done[i]) out[i] = RenewResult{RenewStatus::unavailable, 0, batch[i].ttl, "lease vanished concurrently; retry"};
  return out;
}

Result<ReleaseResult> LeaseStore::release(const ReleaseRequest& req, Duration timeout) {
  std::string code = req.exit_code ? std::to_string(*req.exit_code) : std::string();
  const PgParam params[] = {PgParam::text(req.run_id), PgParam::text(req.holder),
                            PgParam::text(to_string(req.outcome)),
                            req.exit_code ? PgParam::text(code) : PgParam::null()};
  auto res = conn_.exec_prepared(kReleaseName, params, timeout);
  if (!res) return res.error();
  if (res->rows() == 1) return ReleaseResult{ReleaseStatus::released, res->integer(0, 0), "released", {}};

  PgArrayBuilder one(oid::uuid);
  one.add_uuid(req.run_id);
  std::string arr = one.finish();
  const PgParam sp[] = {PgParam::binary_of(arr, oid::uuid_array)};
  auto snap = conn_.exec_prepared(kSnapshotName, sp, timeout);
  if (!snap) return snap.error();
  std::optional<LeaseSnapshot> current;
  if (snap->rows() == 1) current = snapshot_of(*snap, 0);
  auto d = decide_release(current, req.holder);
  ReleaseResult out;
  out.reason = d.reason;
  if (current) {
    out.epoch = current->epoch;
    out.state = std::string(to_string(current->state));
  }
  switch (d.verdict) {
    case ReleaseVerdict::already_released: out.status = ReleaseStatus::already_released; break;
    case ReleaseVerdict::closed: out.status = ReleaseStatus::closed; break;
    case ReleaseVerdict::not_holder: out.status = ReleaseStatus::conflict; break;
    case ReleaseVerdict::not_found: out.status = ReleaseStatus::not_found; break;
    case ReleaseVerdict::release:
      // Active again between the update and the read (a concurrent renewal): retry.
      out.status = ReleaseStatus::unavailable;
      out.reason = "lease changed concurrently; retry";
      break;
  }
  return out;
}

Result<std::vector<LeaseRow>> LeaseStore::list(const LeaseQuery& q, Duration timeout) {
  std::string limit = std::to_string(q.limit);
  std::string state = q.state ? std::string(to_string(*q.state)) : std::string();
  const PgParam params[] = {q.state ? PgParam::text(state) : PgParam::null(),
                            q.holder ? PgParam::text(*q.holder) : PgParam::null(),
                            q.node ? PgParam::text(*q.node) : PgParam::null(), PgParam::text(limit)};
  auto res = conn_.exec_prepared(kListName, params, timeout);
  if (!res) return res.error();
  std::vector<LeaseRow> rows;
  rows.reserve(static_cast<std::size_t>(res->rows()));
  for (int i = 0; i < res->rows(); ++i) {
    LeaseRow r;
    r.run_id = res->text(i, 0);
    r.holder = res->text(i, 1);
    r.node = res->text(i, 2);
    r.epoch = res->integer(i, 3);
    r.seq = res->integer(i, 4);
    r.ttl_ms = res->integer(i, 5);
    r.phase = res->text(i, 6);
    r.state = res->text(i, 7);
    r.renewed_at = res->text(i, 8);
    r.expires_at = res->text(i, 9);
    r.created_at = res->text(i, 10);
    r.state_changed_at = res->text(i, 11);
    if (!res->is_null(i, 12)) r.released_at = std::string(res->text(i, 12));
    if (!res->is_null(i, 13)) r.release_outcome = std::string(res->text(i, 13));
    if (!res->is_null(i, 14)) r.exit_code = res->integer(i, 14);
    rows.push_back(std::move(r));
  }
  return rows;
}

Status LeaseStore::ping(Duration timeout) {
  auto r = conn_.exec("SELECT 1", {}, timeout);
  if (!r) return r.error();
  return Ok{};
}

}  // namespace lifeline::reaper::store
