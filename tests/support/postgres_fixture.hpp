#pragma once
// A throwaway PostgreSQL cluster for integration tests: initdb into a temporary
// directory, listen on 127.0.0.1 on a free port, fsync left on (tests prove
// durability). As root, the server runs as the `postgres` user (initdb refuses root).
// Thread-safety: not thread-safe; tests drive it from their main thread.

#include <cstdint>
#include <memory>
#include <string>

namespace lifeline::testing {

class TempPostgres {
 public:
  TempPostgres();   // starts the cluster or throws std::runtime_error with the server log
  ~TempPostgres();  // stops it and removes the directory
  TempPostgres(const TempPostgres&) = delete;
  TempPostgres& operator=(const TempPostgres&) = delete;

  std::uint16_t port() const { return port_; }
  // libpq URI for database `db` (created with create_database).
  std::string uri(const std::string& db = "postgres") const;
  // Creates a fresh empty database with a unique name and returns its URI.
  std::string create_database();
  // Runs one SQL command as superuser in `db`; throws on failure.
  void exec(const std::string& sql, const std::string& db = "postgres") const;
  // Single value of a query (first row, first column), "" for NULL; throws on failure.
  std::string query_value(const std::string& sql, const std::string& db = "postgres") const;

  void stop();      // fast shutdown (in-flight transactions are rolled back)
  void kill();      // SIGKILL of the postmaster (a crash; recovery on next start)
  void start();     // starts again on the same port and data
  bool running() const { return running_; }
  const std::string& dir() const { return dir_; }

  // One cluster per test process, started on first use. When LIFELINE_TEST_PG_PORT is set
  // (tools/test.sh starts one cluster for the whole run), it is that cluster instead, and
  // stop/kill/start are refused: tests that restart PostgreSQL construct their own.
  static TempPostgres& shared();

 private:
  struct External {};
  TempPostgres(External, std::uint16_t port);
  void run_as_owner(const std::string& cmd) const;
  std::string dir_;
  std::string bindir_;
  std::uint16_t port_ = 0;
  bool running_ = false;
  int db_counter_ = 0;
  bool external_ = false;
};

}  // namespace lifeline::testing
