#include "reaper/api/lease_api.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>

#include "reaper/api/lease_request.hpp"
#include "shared/metrics_text.hpp"
#include "shared/uuid.hpp"

namespace lifeline::reaper::api {

namespace asio = boost::asio;

namespace {
// Counts a request as in flight for as long as its handler runs.
struct InFlight {
  explicit InFlight(std::atomic<std::size_t>& n) : n_(n) { n_.fetch_add(1, std::memory_order_relaxed); }
  ~InFlight() { n_.fetch_sub(1, std::memory_order_release); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  std::atomic<std::size_t>& n_;
};
}  // namespace

LeaseApi::LeaseApi(const Config& config, store::LeaseBatcher& store, ReaperMetrics& metrics, const Logger& log,
                   RunStatusSource* status)
    : leases_(config.leases),
      auth_(config.server.token),
      store_(store),
      metrics_(metrics),
      log_(log.with({{"component", "api"}})),
      status_(status),
      ok_(&metrics.heartbeats("ok")),
      stop_(&metrics.heartbeats("stop")),
      conflict_(&metrics.heartbeats("conflict")),
      unavailable_(&metrics.heartbeats("unavailable")) {}

void LeaseApi::reload(const Config& config) {
  leases_ = config.leases;
  auth_ = BearerAuth(config.server.token);
}

http::Response LeaseApi::reject(const char* result, http::Response r) {
  if (result != nullptr) metrics_.heartbeats(result).Increment();
  return r;
}

asio::awaitable<http::Response> LeaseApi::handle(const http::Request& req) {
  // A well-formed heartbeat, nearly every request, goes straight to renew's coroutine: one
  // coroutine frame per heartbeat instead of two, and one level less to resume through.
  RouteMatch m = match_route(req.path);
  if (m.route == Route::renew && req.method == m.allowed && auth_.allows(req.authorization) &&
      is_json_content_type(req.content_type))
    return renew(req, m.run_id);
  return route(req, m);
}

asio::awaitable<http::Response> LeaseApi::route(const http::Request& req, RouteMatch m) {
  InFlight guard(in_flight_);
  if (m.route == Route::not_found) co_return http::json_error(404, "not_found", "no such endpoint: " + req.path);
  if (req.method != m.allowed) {
    auto r = http::json_error(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
    r.headers.emplace_back("Allow", m.allowed);
    co_return r;
  }
  switch (m.route) {
    case Route::healthz: co_return http::Response{200, "application/json", "{\"status\":\"ok\"}", {}, false};
    case Route::readyz: co_return readyz();
    case Route::metrics: co_return metrics_response(metrics_.registry());
    default: break;
  }
  const char* counted = m.route == Route::renew ? "unauthorized" : nullptr;
  if (!auth_.allows(req.authorization)) {
    auto r = http::json_error(401, "unauthorized", "missing or wrong bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    co_return reject(counted, std::move(r));
  }
  if (m.route == Route::list) co_return co_await list(req);
  counted = m.route == Route::renew ? "bad_request" : nullptr;
  if (!is_json_content_type(req.content_type))
    co_return reject(counted, http::json_error(415, "unsupported_media_type", "Content-Type must be application/json"));
  if (m.route == Route::renew) co_return co_await renew(req, m.run_id);  // handle() takes this path first
  co_return co_await release(req, m.run_id);
}

asio::awaitable<http::Response> LeaseApi::renew(const http::Request& req, std::string_view raw_id) {
  InFlight guard(in_flight_);
  auto parsed = parse_renew(raw_id, req.body, leases_);
  if (!parsed) co_return reject("bad_request", http::json_error(400, "bad_request", parsed.error().message));
  // The canonical id (always 36 characters) outlives the request handed to the store,
  // kept in this frame rather than in a second heap string.
  std::array<char, kUuidLength> id_text{};
  const std::size_t id_size = std::min(parsed->run_id.size(), id_text.size());
  std::copy_n(parsed->run_id.data(), id_size, id_text.begin());
  const std::string_view run_id(id_text.data(), id_size);
  store::RenewResult r = co_await store_.async_renew(std::move(*parsed), asio::use_awaitable);
  std::optional<std::string> stop_reason;
  switch (r.status) {
    case store::RenewStatus::renewed:
      // The lease is renewed either way; Prefect's view only changes the directive.
      if (status_ != nullptr) stop_reason = status_->stop_reason(run_id);
      (stop_reason ? stop_ : ok_)->Increment();
      break;
    case store::RenewStatus::stop: stop_->Increment(); break;
    case store::RenewStatus::conflict: conflict_->Increment(); break;
    case store::RenewStatus::unavailable: unavailable_->Increment(); break;
  }
  if (r.status == store::RenewStatus::conflict || r.status == store::RenewStatus::stop || stop_reason)
    log_.info("heartbeat answered stop",
              {{"run_id", run_id}, {"status", r.status == store::RenewStatus::conflict ? "409" : "200"},
               {"reason", stop_reason ? *stop_reason : r.reason}});
  co_return render_renew(run_id, r, stop_reason ? &*stop_reason : nullptr);
}

asio::awaitable<http::Response> LeaseApi::release(const http::Request& req, std::string_view raw_id) {
  auto parsed = parse_release(raw_id, req.body);
  if (!parsed) co_return http::json_error(400, "bad_request", parsed.error().message);
  std::string run_id = parsed->run_id;
  auto outcome = parsed->outcome;
  auto code = parsed->exit_code;
  store::ReleaseResult r = co_await store_.async_release(std::move(*parsed), asio::use_awaitable);
  if (r.status == store::ReleaseStatus::released) {
    log_.info("lease released", {{"run_id", run_id},
                                 {"outcome", std::string(to_string(outcome))},
                                 {"exit_code", code ? std::to_string(*code) : std::string("none")}});
    bool urgent = outcome == ReleaseOutcome::evicted || (code && *code != 0);
    if (urgent && on_urgent_release_) on_urgent_release_();
  }
  co_return render_release(run_id, r);
}

asio::awaitable<http::Response> LeaseApi::list(const http::Request& req) {
  auto q = parse_lease_query(req);
  if (!q) co_return http::json_error(400, "bad_request", q.error().message);
  store::LeaseList l = co_await store_.async_list(std::move(*q), asio::use_awaitable);
  co_return render_list(l);
}

http::Response LeaseApi::readyz() const {
  if (draining_.load()) return http::json_error(503, "draining", "the reaper is shutting down");
  if (!store_.available()) return http::json_error(503, "store_unavailable", "the database is unreachable");
  return http::Response{200, "application/json", "{\"status\":\"ready\"}", {}, false};
}

}  // namespace lifeline::reaper::api
