#include "reaper/store/pg_connection.hpp"

#include <poll.h>

#include <cerrno>

#include <chrono>
#include <charconv>
#include <vector>

namespace lifeline::reaper::store {
namespace {

using Steady = std::chrono::steady_clock;

Error db_error(std::string message) { return make_error("db", std::move(message)); }

std::string trim_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

struct ParamArrays {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  std::vector<Oid> types;

  explicit ParamArrays(std::span<const PgParam> params) {
    for (const auto& p : params) {
      values.push_back(p.is_null ? nullptr : p.value.data());
      lengths.push_back(static_cast<int>(p.value.size()));
      formats.push_back(p.binary ? 1 : 0);
      types.push_back(p.type_oid);
    }
  }
};

}  // namespace

std::int64_t PgResult::integer(int row, int col) const {
  auto t = text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

Result<PgConnection> PgConnection::connect(const std::string& conninfo, Duration timeout) {
  auto secs = std::to_string(std::max<long long>(2, (timeout.count() + 999) / 1000));
  // Keywords are processed in order: the application name is a default the conninfo
  // may override; the connect timeout is ours and comes last.
  const char* keys[] = {"application_name", "dbname", "connect_timeout", nullptr};
  const char* values[] = {"lifeline-reaper", conninfo.c_str(), secs.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, 1);
  PgConnection c(raw);
  if (raw == nullptr) return db_error("out of memory creating a database connection");
  if (PQstatus(raw) != CONNECTION_OK) return db_error("cannot connect to the database: " + c.last_error());
  // Server notices (e.g. "already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(raw, [](void*, const char*) {}, nullptr);
  return c;
}

bool PgConnection::healthy() const { return conn_ && !broken_ && PQstatus(conn_.get()) == CONNECTION_OK; }

std::string PgConnection::last_error() const {
  return conn_ ? trim_newline(PQerrorMessage(conn_.get())) : "no connection";
}

Result<PgResult> PgConnection::await_result(Duration timeout) {
  PGconn* c = conn_.get();
  auto deadline = Steady::now() + timeout;
  // Flush whatever libpq could not write at once (large batches).
  while (true) {
    int f = PQflush(c);
    if (f == 0) break;
    if (f < 0) {
      broken_ = true;
      return db_error("sending to the database failed: " + last_error());
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
    pollfd pfd{PQsocket(c), POLLOUT | POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1, static_cast<int>(left)) == 0) {
      broken_ = true;
      return db_error("database did not accept the query within " + format_duration(timeout));
    }
    if ((pfd.revents & POLLIN) != 0 && PQconsumeInput(c) == 0) {
      broken_ = true;
      return db_error("reading from the database failed: " + last_error());
    }
  }
  PgResult last;
  std::string error;
  while (true) {
    while (PQisBusy(c) != 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
      pollfd pfd{PQsocket(c), POLLIN, 0};
      int n = left > 0 ? poll(&pfd, 1, static_cast<int>(left)) : 0;
      if (n == 0) {
        broken_ = true;  // the answer may still come; the connection is dropped instead
        return db_error("database did not answer within " + format_duration(timeout));
      }
      if (n < 0 && errno == EINTR) continue;
      if (PQconsumeInput(c) == 0) {
        broken_ = true;
        return db_error("reading from the database failed: " + last_error());
      }
    }
    PGresult* r = PQgetResult(c);
    if (r == nullptr) break;
    PgResult res(r);
    auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && error.empty()) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      error = trim_newline(PQresultErrorMessage(r));
      if (state != nullptr) error += std::string(" (SQLSTATE ") + state + ")";
    }
    last = std::move(res);
  }
  if (PQstatus(c) != CONNECTION_OK) broken_ = true;
  if (!error.empty()) return db_error(error);
  return last;
}

Status PgConnection::exec_script(std::string_view sql, Duration timeout) {
  if (!healthy()) return db_error("no database connection");
  std::string text(sql);
  if (PQsendQuery(conn_.get(), text.c_str()) == 0) {
    broken_ = PQstatus(conn_.get()) != CONNECTION_OK;
    return db_error(last_error());
  }
  auto r = await_result(timeout);
  if (!r) return r.error();
  return Ok{};
}

Result<PgResult> PgConnection::exec(std::string_view sql, std::span<const PgParam> params, Duration timeout) {
  if (!healthy()) return db_error("no database connection");
  ParamArrays a(params);
  std::string text(sql);
  if (PQsendQueryParams(conn_.get(), text.c_str(), static_cast<int>(params.size()), a.types.data(),
                        a.values.data(), a.lengths.data(), a.formats.data(), 0) == 0) {
    broken_ = PQstatus(conn_.get()) != CONNECTION_OK;
    return db_error(last_error());
  }
  return await_result(timeout);
}

Status PgConnection::prepare(const std::string& name, std::string_view sql) {
  if (!healthy()) return db_error("no database connection");
  std::string text(sql);
  PgResult r(PQprepare(conn_.get(), name.c_str(), text.c_str(), 0, nullptr));
  if (r.get() == nullptr || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) broken_ = true;
    return db_error("preparing " + name + ": " + last_error());
  }
  return Ok{};
}

Result<PgResult> PgConnection::exec_prepared(const std::string& name, std::span<const PgParam> params,
                                             Duration timeout) {
  if (!healthy()) return db_error("no database connection");
  ParamArrays a(params);
  if (PQsendQueryPrepared(conn_.get(), name.c_str(), static_cast<int>(params.size()), a.values.data(),
                          a.lengths.data(), a.formats.data(), 0) == 0) {
    broken_ = PQstatus(conn_.get()) != CONNECTION_OK;
    return db_error(last_error());
  }
  return await_result(timeout);
}

}  // namespace lifeline::reaper::store
