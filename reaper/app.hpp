#pragma once
// The reaper program: migrates the schema, serves the heartbeat API over the group-
// committing lease store, runs the reap pipeline, reloads on SIGHUP, drains on SIGTERM.
//
// Threading model:
//   - API threads ([server] api_threads, default 2): each runs its own io_context with
//     its own HTTP server (all accepting on the one listening socket) and its own
//     LeaseApi, so request handling shares no mutable state between them. The first is the
//     caller of serve(), which also handles signals, reloads (posted to every API thread)
//     and the drain. Nothing on them blocks.
//   - Store thread (LeaseBatcher): owns one PostgreSQL connection; group-commits
//     heartbeats and runs releases and listings; posts each completion back to the
//     io_context of the API thread whose request it answers.
//   - Reap threads: whatever the BackgroundService made by the ReapFactory runs (its own
//     connections and Prefect client). The RunStatusSource it exposes is called on the
//     API threads and must be thread-safe and not block.
// Thread-safety: construct, configure and call serve() from one thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reaper/api/run_status_source.hpp"
#include "reaper/background_service.hpp"
#include "reaper/config.hpp"
#include "reaper/metrics.hpp"
#include "shared/clock.hpp"
#include "shared/log.hpp"

namespace lifeline::reaper {

namespace api {
class LeaseApi;
}
namespace store {
class LeaseBatcher;
}
}  // namespace lifeline::reaper
namespace lifeline::http {
class Server;
}
namespace lifeline::reaper {

// What the reap pipeline gets to build itself (all outlive the service).
struct ReapContext {
  const Config& config;
  ReaperMetrics& metrics;
  const Logger& log;
  const Clock& clock;
};

// What it gives back: the service App starts and stops, and optionally the source of
// Prefect-based `stop` answers for heartbeats (owned by the service; may be null).
struct ReapWiring {
  std::unique_ptr<BackgroundService> service;
  RunStatusSource* status_source = nullptr;
  // Called (on the API thread; must not block) after a release the pipeline should act
  // on at once: outcome `evicted` or a non-zero exit code. May be empty.
  std::function<void()> wake_on_release;
};

using ReapFactory = std::function<ReapWiring(const ReapContext&)>;

class App {
 public:
  App(std::string config_path, Config config, const Clock& clock, const Logger& log);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Hook for the reap pipeline: called once in serve(), after migrations and before the
  // API listens. Without it the reaper only serves heartbeats.
  void set_reap_factory(ReapFactory factory) { reap_factory_ = std::move(factory); }
  // Alternatively (tests), a RunStatusSource owned elsewhere.
  void set_run_status_source(RunStatusSource* source) { status_source_ = source; }

  // Serves until drained; returns the exit status (0 after a SIGTERM drain, 1 when the
  // database could not be migrated or the address could not be bound).
  int serve();

  ReaperMetrics& metrics() { return metrics_; }

 private:
  struct ApiLoop;  // one API thread: io_context, HTTP server, LeaseApi
  boost::asio::awaitable<void> signal_loop();
  boost::asio::awaitable<void> drain();
  void reload();
  // SIGHUP with TLS on before and after: new certificate for new connections; false if none applied.
  bool reload_tls(const ServerConfig& next);
  std::size_t in_flight() const;
  void stop_api_threads();

  std::string config_path_;
  Config config_;
  const Clock& clock_;
  Logger log_;
  ReaperMetrics metrics_;
  ReapFactory reap_factory_;
  RunStatusSource* status_source_ = nullptr;

  boost::asio::io_context io_{1};
  std::unique_ptr<store::LeaseBatcher> batcher_;
  std::unique_ptr<BackgroundService> reap_;
  std::vector<std::unique_ptr<ApiLoop>> loops_;  // loops_[0] runs on io_
  bool draining_ = false;
};

// `lifeline-reaper migrate`: applies the schema and returns the exit status.
int run_migrate(const Config& config, const Logger& log);

}  // namespace lifeline::reaper
