#pragma once
// The heartbeat API: routes requests, checks the bearer token, validates, and awaits
// the store's group commit without holding a thread; also /healthz, /readyz, /metrics.
// Threading: handle() and reload() run on one API thread (its io_context) only: with
// several API threads, App makes one LeaseApi per thread. set_draining() and in_flight()
// may be called from any thread. What the instances share (the store, the metrics, the
// run-status source, the release listener) is thread-safe.

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <functional>
#include <memory>

#include "reaper/api/bearer_auth.hpp"
#include "reaper/api/lease_request.hpp"
#include "reaper/api/run_status_source.hpp"
#include "reaper/config.hpp"
#include "reaper/metrics.hpp"
#include "reaper/store/lease_batcher.hpp"
#include "shared/http/message.hpp"
#include "shared/log.hpp"

namespace lifeline::reaper::api {

class LeaseApi {
 public:
  // `status` may be null (no Prefect-based stop answers).
  LeaseApi(const Config& config, store::LeaseBatcher& store, ReaperMetrics& metrics, const Logger& log,
           RunStatusSource* status = nullptr);

  // `req` must stay valid until the awaitable completes (the HTTP server's contract).
  boost::asio::awaitable<http::Response> handle(const http::Request& req);

  // Applies what can change live: TTL bounds and the token.
  void reload(const Config& config);
  void set_run_status_source(RunStatusSource* status) { status_ = status; }
  // Called after a release recorded with outcome `evicted` or a non-zero exit code, so
  // the reap pipeline acts at once instead of at its next interval. Must not block.
  void set_release_listener(std::function<void()> listener) { on_urgent_release_ = std::move(listener); }
  // While draining, /readyz answers 503 so that load balancers move away.
  void set_draining(bool draining) { draining_.store(draining); }
  // Requests being handled (awaiting the store) right now.
  std::size_t in_flight() const { return in_flight_.load(); }

 private:
  // Every request but a well-formed heartbeat (routing, rejections, the other endpoints).
  boost::asio::awaitable<http::Response> route(const http::Request& req, RouteMatch m);
  boost::asio::awaitable<http::Response> renew(const http::Request& req, std::string_view raw_id);
  boost::asio::awaitable<http::Response> release(const http::Request& req, std::string_view raw_id);
  boost::asio::awaitable<http::Response> list(const http::Request& req);
  http::Response readyz() const;
  http::Response reject(const char* result, http::Response r);

  LeasesConfig leases_;
  BearerAuth auth_;
  store::LeaseBatcher& store_;
  ReaperMetrics& metrics_;
  Logger log_;
  RunStatusSource* status_;
  std::function<void()> on_urgent_release_;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> in_flight_{0};
  // Counters looked up once: the hot path must not hash labels per request.
  prometheus::Counter* ok_;
  prometheus::Counter* stop_;
  prometheus::Counter* conflict_;
  prometheus::Counter* unavailable_;
};

}  // namespace lifeline::reaper::api
