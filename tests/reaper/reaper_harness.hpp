#pragma once
// The reaper's heartbeat stack in-process for integration tests: a migrated database,
// the store thread (LeaseBatcher), the API and the HTTP server on 127.0.0.1:0, with
// the io_context on its own thread.
// Thread-safety: construct and destroy on the test thread; the stack runs on its own.

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <thread>

#include "reaper/api/lease_api.hpp"
#include "reaper/store/embedded_schema.hpp"
#include "reaper/store/lease_batcher.hpp"
#include "reaper/store/migrator.hpp"
#include "shared/http/server.hpp"

namespace lifeline::reaper::testing {

inline Status migrate(const std::string& uri, const Logger& log) {
  auto c = store::PgConnection::connect(uri, Duration{5'000});
  if (!c) return c.error();
  auto m = store::apply_migrations(*c, store::embedded_migrations(), Duration{30'000}, log);
  if (!m) return m.error();
  return Ok{};
}

class ReaperHarness {
 public:
  ReaperHarness(const std::string& uri, Config config, RunStatusSource* status = nullptr)
      : config_(std::move(config)), metrics_("test") {
    config_.database.url = uri;
    EXPECT_TRUE(migrate(uri, log_).ok());
    store::LeaseBatcher::Options o;
    o.conninfo = uri;
    o.flush_window = config_.database.flush_window;
    o.max_batch = config_.database.max_batch;
    o.commit_timeout = config_.database.commit_timeout;
    o.max_pending = config_.database.max_pending;
    o.ping_interval = Duration{200};
    o.max_backoff = Duration{500};
    batcher_ = std::make_unique<store::LeaseBatcher>(io_.get_executor(), o, metrics_, log_);
    api_ = std::make_unique<api::LeaseApi>(config_, *batcher_, metrics_, log_, status);
    http::ServerLimits limits;
    limits.max_body_bytes = config_.server.max_body_bytes;
    server_ = std::make_unique<http::Server>(
        io_, [this](const http::Request& r) { return api_->handle(r); }, limits, log_);
    auto p = server_->listen({"127.0.0.1", 0});
    EXPECT_TRUE(p.ok());
    port_ = p.ok() ? *p : 0;
    server_->start();
    batcher_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~ReaperHarness() {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      server_->stop();
      done.set_value();
    });
    done.get_future().wait();
    batcher_->stop();
    work_.reset();
    io_.stop();  // test teardown only: connections may still be closing
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  store::LeaseBatcher& batcher() { return *batcher_; }
  ReaperMetrics& metrics() { return metrics_; }
  boost::asio::io_context& io() { return io_; }

  // Runs `f` on the io thread and waits for it.
  template <typename F>
  void on_io(F f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f(*api_);
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  SystemClock clock_;
  Logger log_{clock_, "test", LogLevel::error};
  Config config_;
  ReaperMetrics metrics_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<store::LeaseBatcher> batcher_;
  std::unique_ptr<api::LeaseApi> api_;
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace lifeline::reaper::testing
