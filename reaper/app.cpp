#include "reaper/app.hpp"

#include <malloc.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <csignal>
#include <thread>

#include "reaper/api/lease_api.hpp"
#include "reaper/config_loader.hpp"
#include "reaper/store/embedded_schema.hpp"
#include "reaper/store/lease_batcher.hpp"
#include "reaper/store/migrator.hpp"
#include "shared/http/server.hpp"

namespace lifeline::reaper {

namespace asio = boost::asio;

namespace {

Status migrate_once(const Config& config, const Logger& log) {
  auto conn = store::PgConnection::connect(config.database.url, config.database.commit_timeout);
  if (!conn) return conn.error();
  // Migrations may rewrite tables: give them far longer than a heartbeat round trip.
  auto report = store::apply_migrations(*conn, store::embedded_migrations(), Duration{600'000}, log);
  if (!report) return report.error();
  log.info("schema ready", {{"schema_version", report->schema_version},
                            {"applied", static_cast<std::int64_t>(report->applied.size())}});
  return Ok{};
}

http::ServerLimits limits_of(const Config& c, std::size_t api_threads) {
  http::ServerLimits l;
  l.max_body_bytes = c.server.max_body_bytes;
  l.max_header_bytes = c.server.max_header_bytes;
  // Each API thread's server counts its own connections: they share the limit out.
  l.max_connections = std::max<std::size_t>(1, (c.server.max_connections + api_threads - 1) / api_threads);
  l.idle_timeout = c.server.idle_timeout;
  l.request_timeout = c.server.request_timeout;
  return l;
}

// Settings that only a restart applies; a reload that changes them says so.
void warn_restart_only(const Config& old_c, const Config& new_c, const Logger& log) {
  auto warn = [&](const char* key) { log.warn("setting changed; takes effect after a restart", {{"key", key}}); };
  if (old_c.server.listen.host != new_c.server.listen.host || old_c.server.listen.port != new_c.server.listen.port)
    warn("server.listen");
  if (old_c.server.max_body_bytes != new_c.server.max_body_bytes) warn("server.max_body_bytes");
  if (old_c.server.max_header_bytes != new_c.server.max_header_bytes) warn("server.max_header_bytes");
  if (old_c.server.max_connections != new_c.server.max_connections) warn("server.max_connections");
  if (old_c.server.idle_timeout != new_c.server.idle_timeout) warn("server.idle_timeout");
  if (old_c.server.request_timeout != new_c.server.request_timeout) warn("server.request_timeout");
  // Certificates reload live; switching TLS on or off changes the protocol of the port.
  if (old_c.server.tls_cert_file.empty() != new_c.server.tls_cert_file.empty()) warn("server.tls_cert_file");
  if (old_c.server.api_threads != new_c.server.api_threads) warn("server.api_threads");
  if (old_c.database.url != new_c.database.url) warn("database.url");
  if (old_c.database.commit_timeout != new_c.database.commit_timeout) warn("database.commit_timeout");
  if (old_c.database.max_pending != new_c.database.max_pending) warn("database.max_pending");
  if (old_c.database.pool_size != new_c.database.pool_size) warn("database.pool_size");
}

}  // namespace

// One API thread. Loop 0 uses App::io_ and the thread that called serve(); the others own
// their io_context and thread, kept running by a work guard until the drain is over (an
// io_context whose requests all await the store has no pending operation of its own).
struct App::ApiLoop {
  asio::io_context* io = nullptr;
  std::unique_ptr<asio::io_context> own_io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::unique_ptr<api::LeaseApi> api;
  std::unique_ptr<http::Server> server;
  std::thread thread;
};

int run_migrate(const Config& config, const Logger& log) {
  auto s = migrate_once(config, log);
  if (!s) {
    log.error("migration failed", {{"error", s.error().message}});
    return 1;
  }
  return 0;
}

App::App(std::string config_path, Config config, const Clock& clock, const Logger& log)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      clock_(clock),
      log_(log),
      metrics_(LIFELINE_VERSION) {}

App::~App() {
  // Normally serve() has drained and joined them already; this is the way out when it
  // did not get that far.
  for (auto& l : loops_)
    if (l->own_io) l->own_io->stop();
  stop_api_threads();
}

// Joins the other API threads; each returns once its drain is over (see drain()).
void App::stop_api_threads() {
  for (auto& l : loops_) {
    if (!l->thread.joinable()) continue;
    l->keep_running.reset();
    l->thread.join();
  }
}

std::size_t App::in_flight() const {
  std::size_t n = 0;
  for (const auto& l : loops_) n += l->api->in_flight();
  return n;
}

int App::serve() {
  // No fastbins: every request allocates coroutine frames of large-bin size, and glibc
  // runs malloc_consolidate over the fastbins before each such allocation; without
  // fastbins the reaper used about 10 % less CPU per heartbeat (measured A/B with
  // GLIBC_TUNABLES=glibc.malloc.mxfast=0, see docs/performance.md).
  ::mallopt(M_MXFAST, 0);
  // The database may be starting next to us (a fresh cluster): retry for a while.
  Duration backoff{250};
  auto give_up = clock_.steady_now() + std::chrono::seconds(30);
  while (true) {
    auto s = migrate_once(config_, log_);
    if (s) break;
    if (clock_.steady_now() >= give_up) {
      log_.error("cannot migrate the database schema; giving up", {{"error", s.error().message}});
      return 1;
    }
    log_.warn("cannot migrate the database schema yet; retrying", {{"error", s.error().message}});
    std::this_thread::sleep_for(backoff);  // startup only, before any event loop runs
    backoff = std::min(backoff * 2, Duration{4'000});
  }

  store::LeaseBatcher::Options bo;
  bo.conninfo = config_.database.url;
  bo.flush_window = config_.database.flush_window;
  bo.max_batch = config_.database.max_batch;
  bo.commit_timeout = config_.database.commit_timeout;
  bo.max_pending = config_.database.max_pending;
  batcher_ = std::make_unique<store::LeaseBatcher>(io_.get_executor(), bo, metrics_, log_);
  if (!batcher_->start()) log_.warn("database unreachable after migrating; heartbeats get 503 until it is back");

  std::function<void()> wake_on_release;
  if (reap_factory_) {
    ReapWiring w = reap_factory_(ReapContext{config_, metrics_, log_, clock_});
    reap_ = std::move(w.service);
    if (w.status_source != nullptr) status_source_ = w.status_source;
    wake_on_release = std::move(w.wake_on_release);
  }
  http::TlsContext tls;
  if (!config_.server.tls_cert_file.empty()) {
    // Checked when the configuration was loaded; the files may have changed since.
    auto ctx = http::make_server_tls_context(config_.server.tls_cert_file, config_.server.tls_key_file);
    if (!ctx) {
      log_.error("cannot load the TLS certificate", {{"error", ctx.error().message}});
      batcher_->stop();
      return 1;
    }
    tls = *ctx;
  }
  const std::size_t api_threads = std::max<std::size_t>(1, config_.server.api_threads);
  Result<std::uint16_t> port = make_error("listen_failed", "no API thread");
  for (std::size_t i = 0; i < api_threads; ++i) {
    auto l = std::make_unique<ApiLoop>();
    if (i == 0) {
      l->io = &io_;
    } else {
      l->own_io = std::make_unique<asio::io_context>(1);
      l->io = l->own_io.get();
      l->keep_running.emplace(l->io->get_executor());
    }
    l->api = std::make_unique<api::LeaseApi>(config_, *batcher_, metrics_, log_, status_source_);
    l->api->set_release_listener(wake_on_release);
    l->server = std::make_unique<http::Server>(
        *l->io, [api = l->api.get()](const http::Request& r) { return api->handle(r); },
        limits_of(config_, api_threads), log_);
    l->server->set_tls(tls);
    // The first binds the port; the others accept on the same socket.
    port = i == 0 ? l->server->listen(config_.server.listen) : l->server->listen_shared(*loops_.front()->server);
    loops_.push_back(std::move(l));
    if (!port) break;
  }
  if (!port) {
    log_.error("cannot listen", {{"error", port.error().message}});
    batcher_->stop();
    return 1;
  }
  // The pipeline first: the API threads may call its wake-up from their first request.
  if (reap_) reap_->start();
  for (auto& l : loops_) l->server->start();
  for (auto& l : loops_)
    if (l->own_io) l->thread = std::thread([io = l->io] { io->run(); });
  log_.info("listening", {{"address", config_.server.listen.host}, {"port", static_cast<int>(*port)},
                          {"api_threads", api_threads}, {"tls", tls ? "on" : "off"}, {"version", LIFELINE_VERSION}});

  asio::co_spawn(io_, signal_loop(), [this](std::exception_ptr e) {
    if (e) log_.error("signal handling ended by an exception");
  });
  io_.run();
  // The drain is over (it released the other API threads): nothing is in flight any more.
  stop_api_threads();

  // The event loops are done. Stop the rest.
  if (reap_) reap_->stop();
  batcher_->stop();
  log_.info("drained; exiting");
  return 0;
}

asio::awaitable<void> App::signal_loop() {
  asio::signal_set signals(io_, SIGTERM, SIGINT, SIGHUP);
  while (true) {
    auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (sig == SIGHUP) {
      reload();
      continue;
    }
    if (draining_) {
      // A second SIGTERM: the operator wants out now.
      log_.warn("second termination signal; exiting at once");
      ::_exit(1);
    }
    draining_ = true;
    log_.info("termination signal; draining", {{"signal", sig}});
    asio::co_spawn(io_, drain(), [this, &signals](std::exception_ptr) {
      // Drained: stop waiting for signals so that io_context::run() returns.
      boost::system::error_code ignored;
      signals.cancel(ignored);
    });
  }
}

asio::awaitable<void> App::drain() {
  // A server is only touched on its own thread: post to each.
  for (auto& l : loops_) {
    l->api->set_draining(true);
    asio::post(*l->io, [s = l->server.get()] { s->stop_accepting(); });
  }
  // Requests already received finish (their batch commits and they are answered),
  // bounded by the commit timeout.
  asio::steady_timer timer(io_);
  auto deadline = std::chrono::steady_clock::now() + config_.database.commit_timeout + std::chrono::seconds(1);
  while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  for (auto& l : loops_) {
    asio::post(*l->io, [s = l->server.get()] { s->stop(); });
    // The posted stop is work of its own: the loop runs it, then returns once its
    // connections have closed.
    l->keep_running.reset();
  }
}

bool App::reload_tls(const ServerConfig& next) {
  // Only a certificate rotation (TLS on before and after): new connections take the new
  // certificate, open ones keep theirs.
  if (config_.server.tls_cert_file.empty() || next.tls_cert_file.empty()) return false;
  auto ctx = http::make_server_tls_context(next.tls_cert_file, next.tls_key_file);
  if (!ctx) {
    log_.error("TLS certificate reload failed; keeping the current one", {{"error", ctx.error().message}});
    return false;
  }
  for (auto& l : loops_) asio::post(*l->io, [s = l->server.get(), tls = *ctx] { s->set_tls(tls); });
  log_.info("TLS certificate reloaded", {{"cert_file", next.tls_cert_file}});
  return true;
}

void App::reload() {
  auto loaded = load_config_file(config_path_);
  if (!loaded.ok()) {
    log_.error("configuration reload failed; keeping the current configuration",
               {{"file", config_path_}, {"errors", static_cast<std::int64_t>(loaded.errors.size())}});
    for (const auto& e : loaded.errors) log_.error("configuration error", {{"error", e.to_string()}});
    return;
  }
  Config next = std::move(loaded.config);
  warn_restart_only(config_, next, log_);
  // Each API thread applies it on its own thread (LeaseApi is not thread-safe); the last
  // to do so says it is reloaded, so that the line means every thread answers with it.
  struct Pending {
    Config config;
    std::atomic<std::size_t> left;
  };
  auto pending = std::make_shared<Pending>();
  pending->config = next;
  pending->left.store(loops_.size());
  for (auto& l : loops_) {
    asio::post(*l->io, [api = l->api.get(), pending, log = log_, path = config_path_] {
      api->reload(pending->config);
      if (pending->left.fetch_sub(1) == 1) log.info("configuration reloaded", {{"file", path}});
    });
  }
  batcher_->set_flush(next.database.flush_window, next.database.max_batch);
  if (reap_) reap_->reload(next);
  // Keep what needs a restart as it runs now, so later reloads compare against reality.
  ServerConfig server = config_.server;
  server.token_file = next.server.token_file;
  server.token = next.server.token;
  if (reload_tls(next.server)) {
    server.tls_cert_file = next.server.tls_cert_file;
    server.tls_key_file = next.server.tls_key_file;
  }
  next.server = server;
  next.database.url = config_.database.url;
  next.database.url_file = config_.database.url_file;
  next.database.commit_timeout = config_.database.commit_timeout;
  next.database.max_pending = config_.database.max_pending;
  next.database.pool_size = config_.database.pool_size;
  config_ = std::move(next);
}

}  // namespace lifeline::reaper
