#pragma once
// Applies the embedded schema migrations in version order, each in its own transaction
// together with its row in lifeline_schema_migrations. Replicas starting together are
// serialized by a transaction-scoped advisory lock, so each migration runs once.
// Thread-safety: not thread-safe; uses the caller's connection.

#include <span>
#include <vector>

#include "reaper/store/embedded_schema.hpp"
#include "reaper/store/pg_connection.hpp"
#include "shared/log.hpp"

namespace lifeline::reaper::store {

struct MigrationReport {
  std::vector<int> applied;  // versions applied by this call
  int schema_version = 0;    // highest version recorded in the database afterwards
};

Result<MigrationReport> apply_migrations(PgConnection& conn, std::span<const Migration> migrations,
                                         Duration timeout, const Logger& log);

}  // namespace lifeline::reaper::store
