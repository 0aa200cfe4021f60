#include "tests/bench/load_worker.hpp"

#include <sys/resource.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cmath>

namespace lifeline::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

namespace {
LoadWorker::Clock::duration seconds(double s) {
  return std::chrono::duration_cast<LoadWorker::Clock::duration>(std::chrono::duration<double>(s));
}
}  // namespace

LoadWorker::LoadWorker(const LoadOptions& options, std::size_t first, std::size_t last, std::uint32_t tag)
    : options_(options), first_(first), last_(last), requests_(options.host, options.token, options.ttl_seconds) {
  auto target = tcp::endpoint(asio::ip::make_address(options.host), options.port);
  const std::size_t n = last - first;
  connections_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::optional<asio::ip::address> source;
    if (options.source_addresses > 1) {
      // 127.0.0.x as source: each address has its own ephemeral port range.
      auto x = static_cast<unsigned>((first + i) % options.source_addresses) + 1;
      source = asio::ip::address_v4((127u << 24) | x);
    }
    connections_.push_back(std::make_unique<ClientConnection>(io_.get_executor(), target, source));
  }
  const std::size_t per = options.leases_per_connection;
  sidecars_.reserve(n * per);
  for (std::size_t i = 0; i < n * per; ++i) sidecars_.push_back(bench_sidecar(tag, first * per + i));
  seqs_.assign(sidecars_.size(), 0);
  result_.connections = n;
}

void LoadWorker::connect_all() {
  next_connect_ = 0;
  for (std::size_t k = 0; k < options_.connect_concurrency; ++k) asio::co_spawn(io_, connector(), asio::detached);
  io_.run();
  io_.restart();
}

asio::awaitable<void> LoadWorker::connector() {
  asio::steady_timer backoff(io_);
  std::string hello;
  while (next_connect_ < connections_.size()) {
    const std::size_t local = next_connect_++;
    auto& c = *connections_[local];
    bool up = false;
    for (int attempt = 0; attempt < 5 && !up; ++attempt) {
      up = (co_await c.connect()).empty();
      if (!up) {
        backoff.expires_after(100ms * (attempt + 1));
        co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
    if (up) {
      // A sidecar's first heartbeat follows its connect at once; servers may close a
      // connection that stays silent (the reaper allows its request_timeout). Not measured.
      const std::size_t lease = local * options_.leases_per_connection;
      requests_.renew(hello, sidecars_[lease], ++seqs_[lease]);
      Exchange ex = co_await c.round_trip(hello);
      up = ex.ok();
    }
    if (up) ++result_.connected;
    else ++result_.connect_failures;
  }
}

WorkerResult LoadWorker::run(Clock::time_point t0) {
  t0_ = t0;
  measure_start_ = t0 + seconds(options_.warmup_seconds);
  measure_end_ = measure_start_ + seconds(options_.duration_seconds);
  active_ = connections_.size();
  for (std::size_t i = 0; i < connections_.size(); ++i) asio::co_spawn(io_, drive(i), asio::detached);
  asio::co_spawn(io_, watchdog(), asio::detached);
  asio::co_spawn(io_, window_marks(), asio::detached);
  io_.run();
  for (const auto& c : connections_) result_.reconnects += c->reconnects();
  result_.window_seconds = options_.duration_seconds;
  return result_;
}

asio::awaitable<void> LoadWorker::window_marks() {
  asio::steady_timer t(io_);
  t.expires_at(measure_start_);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  cpu_at_start_ = process_cpu_seconds();
  t.expires_at(measure_end_);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  result_.cpu_seconds = process_cpu_seconds() - cpu_at_start_;
  for (const auto& c : connections_) result_.open_at_end += c->is_open() ? 1 : 0;
}

asio::awaitable<void> LoadWorker::watchdog() {
  asio::steady_timer t(io_);
  const auto limit = seconds(options_.timeout_seconds);
  while (active_ > 0) {
    t.expires_after(100ms);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    auto now = Clock::now();
    for (auto& c : connections_) {
      auto since = c->busy_since();
      if (since && now - *since > limit) c->abort("timeout");
    }
  }
}

asio::awaitable<void> LoadWorker::drive(std::size_t local) {
  ClientConnection& conn = *connections_[local];
  const bool open_loop = options_.rate > 0;
  const std::size_t global = first_ + local;
  const std::size_t per = options_.leases_per_connection;
  const double period = open_loop ? static_cast<double>(options_.connections) / options_.rate : 0.0;
  // Intended send times sit on a grid of tick_us: connections due in the same tick are
  // woken together, one wakeup for many sends, so the generator's CPU per request stays
  // low at modest rates. Latency counts from the grid time, which is the real schedule.
  const double tick = static_cast<double>(std::max<std::int64_t>(options_.tick_us, 1)) / 1e6;
  auto at = [&](std::size_t step) {
    double raw = static_cast<double>(global) / (open_loop ? options_.rate : 1.0) + static_cast<double>(step) * period;
    return t0_ + seconds(std::ceil(raw / tick) * tick);
  };
  Clock::time_point intended = open_loop ? at(0) : t0_;
  asio::steady_timer timer(io_);
  std::string request;
  request.reserve(512);
  std::size_t k = 0;
  while (true) {
    auto now = Clock::now();
    if (open_loop) {
      if (intended >= measure_end_) break;
      if (intended > now) {
        timer.expires_at(intended);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      } else if (now - intended > 1ms && intended >= measure_start_) {
        ++result_.late_sends;
      }
    } else {
      if (now >= measure_end_) break;
      if (now < t0_) {
        timer.expires_at(t0_);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      intended = Clock::now();
    }
    const std::size_t lease = local * per + k % per;
    requests_.renew(request, sidecars_[lease], ++seqs_[lease]);
    const bool measured = intended >= measure_start_ && intended < measure_end_;
    if (measured) ++result_.sent;
    Exchange ex = co_await conn.round_trip(request);
    auto done = Clock::now();
    if (ex.ok() && ex.status >= 200 && ex.status < 300 && done >= measure_start_ && done < measure_end_)
      ++result_.ok_in_window;
    if (measured) {
      if (ex.ok()) {
        ++result_.status[ex.status];
        result_.latency.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(done - intended).count()));
      } else {
        ++result_.errors[ex.error];
      }
    }
    if (!ex.ok() && ex.error == "connect") {
      // The server refuses connections: do not spin; the schedule catches up later.
      timer.expires_after(100ms);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    ++k;
    if (open_loop) intended = at(k);
  }
  --active_;
}

}  // namespace lifeline::bench
