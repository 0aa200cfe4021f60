#include "sidecar/lease_keeper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sidecar/fencing.hpp"

namespace lifeline::sidecar {

namespace asio = boost::asio;

LeaseKeeper::LeaseKeeper(asio::io_context& io, const Clock& clock, HeartbeatClient& client,
                         LeaseSettings settings, SidecarMetrics& metrics, const Logger& log,
                         Callbacks callbacks)
    : clock_(clock),
      client_(client),
      settings_(std::move(settings)),
      metrics_(metrics),
      log_(log),
      callbacks_(std::move(callbacks)),
      timer_(io),
      backoff_(BackoffPolicy::for_interval(settings_.interval)) {
  view_.interval = settings_.interval;
}

void LeaseKeeper::wake() {
  urgent_ = true;
  timer_.cancel();
}

void LeaseKeeper::terminating() {
  if (view_.phase == Phase::terminating) return;
  view_.phase = Phase::terminating;
  wake();
}

void LeaseKeeper::finish(ReleaseOutcome outcome, int exit_code) {
  if (release_) return;
  release_ = {outcome, exit_code};
  timer_.cancel();
}

asio::awaitable<void> LeaseKeeper::run() {
  SteadyTime next_tick = clock_.steady_now();
  std::optional<SteadyTime> retry_at;
  int retry = 0;
  while (!release_) {
    if (!urgent_) {
      SteadyTime at = retry_at && *retry_at < next_tick ? *retry_at : next_tick;
      timer_.expires_at(at);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      if (release_) break;
      if (!urgent_ && clock_.steady_now() < at) continue;  // spurious wake
    }
    urgent_ = false;
    SteadyTime now = clock_.steady_now();
    if (now >= next_tick) {
      // Drift-free: the schedule is start + k * interval; missed ticks are skipped, not bunched.
      do next_tick += view_.interval;
      while (next_tick <= now);
      retry = 0;
    }
    retry_at.reset();
    if (view_.stop_received) continue;  // nothing more to renew; wait for finish()
    co_await heartbeat_once();
    if (last_failed_) {
      retry_at = next_retry(backoff_, retry++, clock_.steady_now(), next_tick, settings_.request_timeout);
    } else {
      retry = 0;
    }
  }
  co_await release();
  if (callbacks_.finished) callbacks_.finished();
}

asio::awaitable<void> LeaseKeeper::heartbeat_once() {
  HeartbeatRequest req{settings_.holder, settings_.node, settings_.ttl, ++view_.seq, view_.phase};
  SteadyTime sent = clock_.steady_now();
  auto reply = co_await client_.send("PUT", lease_path(settings_.base_path, settings_.run_id),
                                     heartbeat_body(req), settings_.request_timeout);
  double took = to_seconds(std::chrono::duration_cast<Duration>(clock_.steady_now() - sent));
  metrics_.heartbeat_duration.observe(took);
  HeartbeatAnswer answer;
  if (!reply) {
    answer.reason = reply.error().message;
    metrics_.count_heartbeat(reply.error().code == "timeout" ? "timeout" : "error");
  } else {
    answer = decode_heartbeat_answer(reply->status, reply->body);
  }
  switch (answer.kind) {
    case HeartbeatAnswer::Kind::renewed: {
      metrics_.count_heartbeat("ok");
      last_failed_ = false;
      if (view_.consecutive_failures > 0)
        log_.info("heartbeat acknowledged again", {{"after_failures", view_.consecutive_failures}});
      view_.consecutive_failures = 0;
      view_.epoch = answer.epoch;
      view_.last_ack_sent = sent;
      if (answer.granted_ttl != view_.granted_ttl) {
        // A smaller grant than asked may break the fencing rule: heartbeat faster to keep it.
        auto fitted = fencing::fit_interval(settings_.interval, answer.granted_ttl, settings_.kill_grace,
                                            settings_.request_timeout);
        if (!fitted) {
          log_.error("granted ttl breaks the fencing rule", {{"granted_ttl", format_duration(answer.granted_ttl)},
                                                             {"detail", fitted.error().message}});
        } else if (*fitted != view_.interval) {
          log_.warn("granted ttl is shorter than asked; heartbeating faster to keep the fencing rule",
                    {{"granted_ttl", format_duration(answer.granted_ttl)},
                     {"interval", format_duration(*fitted)}});
          view_.interval = *fitted;
          backoff_ = BackoffPolicy::for_interval(*fitted);
        }
        view_.granted_ttl = answer.granted_ttl;
        metrics_.lease_ttl_seconds = to_seconds(answer.granted_ttl);
      }
      log_.debug("heartbeat acknowledged", {{"seq", req.seq}, {"epoch", answer.epoch}});
      if (callbacks_.renewed) callbacks_.renewed(view_);
      break;
    }
    case HeartbeatAnswer::Kind::stop:
      metrics_.count_heartbeat("stop");
      last_failed_ = false;
      view_.stop_received = true;
      log_.warn("reaper says stop", {{"seq", req.seq}, {"reason", answer.reason}});
      if (callbacks_.stop) callbacks_.stop(answer.reason);
      break;
    case HeartbeatAnswer::Kind::failed:
      if (reply) metrics_.count_heartbeat("error");
      last_failed_ = true;
      ++view_.consecutive_failures;
      log_.warn("heartbeat failed", {{"seq", req.seq},
                                     {"consecutive_failures", view_.consecutive_failures},
                                     {"error", answer.reason}});
      break;
  }
}

asio::awaitable<void> LeaseKeeper::release() {
  auto [outcome, code] = *release_;
  std::string body = release_body(settings_.holder, outcome, code);
  Duration timeout = std::max(settings_.request_timeout, Duration(1000));
  // A second attempt only when a kept-alive connection may have gone stale meanwhile; an
  // unreachable reaper must not delay the exit (the lease then simply expires).
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = client_.connected();
    auto reply = co_await client_.send("POST", release_path(settings_.base_path, settings_.run_id), body, timeout);
    if (reply && reply->status >= 200 && reply->status < 300) {
      view_.released = true;
      log_.info("lease released", {{"outcome", outcome_name(outcome)}, {"exit_code", code}});
      co_return;
    }
    std::string why = reply ? "HTTP " + std::to_string(reply->status) + " " + reply->body : reply.error().message;
    log_.warn("release failed", {{"attempt", attempt + 1}, {"error", why}});
    if (reply || !reused || reply.error().code == "timeout") break;
  }
  client_.close();
}

}  // namespace lifeline::sidecar
