#include "tests/support/postgres_fixture.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/subprocess.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string find_bindir() {
  if (const char* env = std::getenv("LIFELINE_PG_BINDIR"); env != nullptr && *env != '\0') return env;
  namespace fs = std::filesystem;
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    auto candidate = e.path() / "bin";
    if (fs::exists(candidate / "initdb") && candidate.string() > best) best = candidate.string();
  }
  if (best.empty()) throw std::runtime_error("PostgreSQL server binaries not found (install the postgresql package)");
  return best;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct PgConn {
  explicit PgConn(const std::string& uri) : c(PQconnectdb(uri.c_str())) {}
  ~PgConn() { PQfinish(c); }
  PGconn* c;
};

}  // namespace

TempPostgres::TempPostgres() : bindir_(find_bindir()) {
  char tmpl[] = "/tmp/lifeline-pg.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  chmod(dir_.c_str(), 0755);
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("running as root but there is no postgres user");
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed");
  }
  run_as_owner(bindir_ + "/initdb -D " + shell_quote(dir_ + "/data") +
               " -U postgres --auth=trust --no-sync -E UTF8 --locale=C > " + shell_quote(dir_ + "/initdb.log") + " 2>&1");
  port_ = free_port();
  start();
}

TempPostgres::TempPostgres(External, std::uint16_t port) : port_(port), running_(true), external_(true) {}

TempPostgres::~TempPostgres() {
  if (external_) return;
  try {
    if (running_) stop();
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void TempPostgres::run_as_owner(const std::string& cmd) const {
  std::string full = geteuid() == 0 ? "cd / && runuser -u postgres -- sh -c " + shell_quote(cmd) : "cd / && " + cmd;
  int rc = std::system(full.c_str());
  if (rc != 0) {
    throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + cmd + "\n" +
                             read_file(dir_ + "/initdb.log") + read_file(dir_ + "/server.log"));
  }
}

void TempPostgres::start() {
  if (external_) throw std::logic_error("TempPostgres::start on the shared external cluster");
  // Small shared_buffers and connection limits keep many test clusters cheap; fsync stays on.
  std::string opts = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) +
                     " -c unix_socket_directories=" + dir_ + " -c max_connections=300" +
                     " -c shared_buffers=64MB -c log_min_messages=warning";
  for (int attempt = 0;; ++attempt) {
    try {
      run_as_owner(bindir_ + "/pg_ctl -D " + shell_quote(dir_ + "/data") + " -l " + shell_quote(dir_ + "/server.log") +
                   " -w -t 60 -s -o " + shell_quote(opts) + " start");
      break;
    } catch (const std::exception&) {
      if (attempt >= 2) throw;
      port_ = free_port();  // the port was taken meanwhile; try another
      opts = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) + " -c unix_socket_directories=" + dir_ +
             " -c max_connections=300 -c shared_buffers=64MB -c log_min_messages=warning";
    }
  }
  running_ = true;
}

void TempPostgres::stop() {
  if (external_) throw std::logic_error("TempPostgres::stop on the shared external cluster");
  run_as_owner(bindir_ + "/pg_ctl -D " + shell_quote(dir_ + "/data") + " -m fast -w -t 60 -s stop");
  running_ = false;
}

void TempPostgres::kill() {
  if (external_) throw std::logic_error("TempPostgres::kill on the shared external cluster");
  std::ifstream pidfile(dir_ + "/data/postmaster.pid");
  pid_t pid = 0;
  pidfile >> pid;
  if (pid > 0) ::kill(pid, SIGKILL);
  // Wait for the postmaster and its children to be gone before a restart.
  if (pid > 0) wait_until([pid] { return ::kill(pid, 0) != 0; }, std::chrono::seconds(10));
  running_ = false;
}

std::string TempPostgres::uri(const std::string& db) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string TempPostgres::create_database() {
  // Unique across processes sharing one cluster: pid, a counter and the time.
  std::string name = "lifeline_test_" + std::to_string(getpid()) + "_" + std::to_string(++db_counter_) + "_" +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
  exec("CREATE DATABASE " + name);
  return uri(name);
}

void TempPostgres::exec(const std::string& sql, const std::string& db) const {
  PgConn conn(uri(db));
  if (PQstatus(conn.c) != CONNECTION_OK) throw std::runtime_error(std::string("connect: ") + PQerrorMessage(conn.c));
  PGresult* r = PQexec(conn.c, sql.c_str());
  auto st = PQresultStatus(r);
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error("sql failed: " + sql + ": " + err);
}

std::string TempPostgres::query_value(const std::string& sql, const std::string& db) const {
  PgConn conn(uri(db));
  if (PQstatus(conn.c) != CONNECTION_OK) throw std::runtime_error(std::string("connect: ") + PQerrorMessage(conn.c));
  PGresult* r = PQexec(conn.c, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    throw std::runtime_error("sql failed: " + sql + ": " + err);
  }
  std::string v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  return v;
}

TempPostgres& TempPostgres::shared() {
  if (const char* port = std::getenv("LIFELINE_TEST_PG_PORT"); port != nullptr && *port != '\0') {
    static TempPostgres external(External{}, static_cast<std::uint16_t>(std::stoi(port)));
    return external;
  }
  static TempPostgres instance;  // process lifetime; stopped at exit
  return instance;
}

}  // namespace lifeline::testing
