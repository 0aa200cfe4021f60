#include "reaper/store/migrator.hpp"

namespace lifeline::reaper::store {
namespace {

// Key of the advisory lock that serializes migrations ("lifeline" in ASCII).
constexpr const char* kLockKey = "7811882479493342821";

constexpr const char* kCreateLedger = R"sql(
CREATE TABLE IF NOT EXISTS lifeline_schema_migrations (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

Status rollback(PgConnection& conn, Duration timeout, Error e) {
  (void)conn.exec_script("ROLLBACK", timeout);
  return e;
}

// One migration in one transaction; true when it was applied now.
Result<bool> apply_one(PgConnection& conn, const Migration& m, Duration timeout) {
  if (auto s = conn.exec_script("BEGIN", timeout); !s) return s.error();
  const PgParam lock[] = {PgParam::text(kLockKey)};
  if (auto r = conn.exec("SELECT pg_advisory_xact_lock($1::bigint)", lock, timeout); !r)
    return rollback(conn, timeout, r.error()).error();
  if (auto s = conn.exec_script(kCreateLedger, timeout); !s) return rollback(conn, timeout, s.error()).error();
  std::string version = std::to_string(m.version);
  const PgParam v[] = {PgParam::text(version)};
  auto seen = conn.exec("SELECT 1 FROM lifeline_schema_migrations WHERE version = $1::integer", v, timeout);
  if (!seen) return rollback(conn, timeout, seen.error()).error();
  if (seen->rows() > 0) {
    if (auto s = conn.exec_script("COMMIT", timeout); !s) return s.error();
    return false;
  }
  if (auto s = conn.exec_script(m.sql, timeout); !s) {
    return rollback(conn, timeout,
                    make_error("migration", "migration " + version + "_" + std::string(m.name) +
                                                " failed: " + s.error().message))
        .error();
  }
  const PgParam row[] = {PgParam::text(version), PgParam::text(m.name)};
  if (auto r = conn.exec("INSERT INTO lifeline_schema_migrations (version, name) VALUES ($1::integer, $2)", row,
                         timeout);
      !r)
    return rollback(conn, timeout, r.error()).error();
  if (auto s = conn.exec_script("COMMIT", timeout); !s) return s.error();
  return true;
}

}  // namespace

Result<MigrationReport> apply_migrations(PgConnection& conn, std::span<const Migration> migrations,
                                         Duration timeout, const Logger& log) {
  MigrationReport report;
  for (const auto& m : migrations) {
    auto applied = apply_one(conn, m, timeout);
    if (!applied) return applied.error();
    if (*applied) {
      report.applied.push_back(m.version);
      log.info("schema migration applied", {{"version", m.version}, {"name", std::string(m.name)}});
    }
  }
  auto v = conn.exec("SELECT coalesce(max(version), 0) FROM lifeline_schema_migrations", {}, timeout);
  if (!v) return v.error();
  report.schema_version = static_cast<int>(v->integer(0, 0));
  if (!migrations.empty() && report.schema_version > migrations.back().version)
    log.warn("database schema is newer than this binary",
             {{"schema_version", report.schema_version}, {"known_version", migrations.back().version}});
  return report;
}

}  // namespace lifeline::reaper::store
