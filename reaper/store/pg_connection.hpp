#pragma once
// An RAII libpq connection with parameterized queries only (plus plain exec for the
// embedded migration scripts), prepared statements, and a bound on how long any
// round trip may take, so a hung database cannot hold a caller forever.
// Thread-safety: not thread-safe; one thread owns a connection.

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "shared/duration.hpp"
#include "shared/result.hpp"

namespace lifeline::reaper::store {

// Owns a PGresult.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}

  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::int64_t integer(int row, int col) const;  // a text-format integer column
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  PGresult* get() const { return r_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_{nullptr, &PQclear};
};

// One query parameter: text or binary bytes with an explicit type OID (0 = inferred).
struct PgParam {
  std::string_view value;
  bool is_null = false;
  bool binary = false;
  unsigned int type_oid = 0;

  static PgParam text(std::string_view v) { return {v, false, false, 0}; }
  static PgParam null() { return {{}, true, false, 0}; }
  static PgParam binary_of(std::string_view v, unsigned int oid) { return {v, false, true, oid}; }
};

class PgConnection {
 public:
  // Connects within `timeout` (libpq connect_timeout, rounded up to whole seconds).
  static Result<PgConnection> connect(const std::string& conninfo, Duration timeout);

  PgConnection(PgConnection&&) noexcept = default;
  PgConnection& operator=(PgConnection&&) noexcept = default;

  // Still usable (false after a lost connection or a timed-out round trip).
  bool healthy() const;

  // A script without parameters (may hold several statements): migrations only.
  Status exec_script(std::string_view sql, Duration timeout);

  // A parameterized statement. `sql` is sent once per call; prefer prepared ones on hot paths.
  Result<PgResult> exec(std::string_view sql, std::span<const PgParam> params, Duration timeout);

  // Prepares `name` (once per connection; safe to call again after a reconnect).
  Status prepare(const std::string& name, std::string_view sql);
  Result<PgResult> exec_prepared(const std::string& name, std::span<const PgParam> params, Duration timeout);

  std::string last_error() const;

 private:
  explicit PgConnection(PGconn* c) : conn_(c, &PQfinish) {}
  // Waits for the answer to a query just sent; returns the last result, or an error.
  Result<PgResult> await_result(Duration timeout);

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_{nullptr, &PQfinish};
  bool broken_ = false;
};

}  // namespace lifeline::reaper::store
