#include "reaper/app.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

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

http::ServerLimits limits_of(const Config& c) {
  http::ServerLimits l;
  l.max_body_bytes = c.server.max_body_bytes;
  l.max_header_bytes = c.server.max_header_bytes;
  l.max_connections = c.server.max_connections;
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
  if (old_c.database.url != new_c.database.url) warn("database.url");
  if (old_c.database.commit_timeout != new_c.database.commit_timeout) warn("database.commit_timeout");
  if (old_c.database.max_pending != new_c.database.max_pending) warn("database.max_pending");
  if (old_c.database.pool_size != new_c.database.pool_size) warn("database.pool_size");
}

}  // namespace

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

App::~App() = default;

int App::serve() {
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
  api_ = std::make_unique<api::LeaseApi>(config_, *batcher_, metrics_, log_, status_source_);
  api_->set_release_listener(std::move(wake_on_release));

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
  server_ = std::make_unique<http::Server>(
      io_, [this](http::Request r) { return api_->handle(std::move(r)); }, limits_of(config_), log_);
  server_->set_tls(tls);
  auto port = server_->listen(config_.server.listen);
  if (!port) {
    log_.error("cannot listen", {{"error", port.error().message}});
    batcher_->stop();
    return 1;
  }
  server_->start();
  if (reap_) reap_->start();
  log_.info("listening", {{"address", config_.server.listen.host}, {"port", static_cast<int>(*port)},
                          {"tls", tls ? "on" : "off"}, {"version", LIFELINE_VERSION}});

  asio::co_spawn(io_, signal_loop(), [this](std::exception_ptr e) {
    if (e) log_.error("signal handling ended by an exception");
  });
  io_.run();

  // The event loop is done: nothing is in flight any more. Stop the rest.
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
  api_->set_draining(true);
  server_->stop_accepting();
  // Requests already received finish (their batch commits and they are answered),
  // bounded by the commit timeout.
  asio::steady_timer timer(io_);
  auto deadline = std::chrono::steady_clock::now() + config_.database.commit_timeout + std::chrono::seconds(1);
  while (api_->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  server_->stop();
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
  server_->set_tls(*ctx);
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
  api_->reload(next);
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
  log_.info("configuration reloaded", {{"file", config_path_}});
}

}  // namespace lifeline::reaper
