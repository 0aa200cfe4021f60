#include "reaper/reap/wakeup_listener.hpp"

namespace lifeline::reaper::reap {

Result<WakeupListener> WakeupListener::connect(const std::string& url) {
  const char* keys[] = {"application_name", "dbname", "connect_timeout", nullptr};
  const char* values[] = {"lifeline-reaper-listen", url.c_str(), "5", nullptr};
  WakeupListener l(PQconnectdbParams(keys, values, 1));
  if (!l.conn_ || PQstatus(l.conn_.get()) != CONNECTION_OK)
    return make_error("db", std::string("cannot connect the wake-up listener: ") +
                                (l.conn_ ? PQerrorMessage(l.conn_.get()) : "out of memory"));
  std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(l.conn_.get(), "LISTEN lifeline_wakeup"), &PQclear);
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK)
    return make_error("db", std::string("LISTEN failed: ") + PQerrorMessage(l.conn_.get()));
  return l;
}

int WakeupListener::socket() const { return conn_ ? PQsocket(conn_.get()) : -1; }

bool WakeupListener::healthy() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

bool WakeupListener::drain() {
  if (!conn_ || PQconsumeInput(conn_.get()) == 0) return false;
  bool any = false;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    any = true;
    PQfreemem(n);
  }
  return any;
}

}  // namespace lifeline::reaper::reap
