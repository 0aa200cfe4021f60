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
  if (options_.rate > 0) {
    period_ = static_cast<double>(options_.connections) / options_.rate;
    tick_ = static_cast<double>(std::max<std::int64_t>(options_.tick_us, 1)) / 1e6;
  }
  slots_.assign(connections_.size(), Slot{});
  requests_in_flight_.assign(connections_.size(), std::string());
  for (auto& r : requests_in_flight_) r.reserve(512);
  active_ = connections_.size();
  asio::co_spawn(io_, pacer(), asio::detached);
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
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i].busy) continue;
      auto since = connections_[i]->busy_since();
      if (since && now - *since > limit) connections_[i]->abort("timeout");
    }
  }
}

LoadWorker::Clock::time_point LoadWorker::intended_at(std::size_t local, std::size_t step) const {
  // Intended send times sit on a grid of tick_us: connections due in the same tick are
  // started by one wakeup, so the generator's CPU per request stays low at modest rates.
  // Latency counts from the grid time, which is the real schedule.
  const double raw = static_cast<double>(first_ + local) / options_.rate + static_cast<double>(step) * period_;
  return t0_ + seconds(std::ceil(raw / tick_) * tick_);
}

asio::awaitable<void> LoadWorker::pacer() {
  asio::steady_timer timer(io_);
  const std::size_t n = slots_.size();
  if (n == 0) co_return;
  if (options_.rate <= 0) {  // closed loop: every connection starts at t0, then runs on its answers
    timer.expires_at(t0_);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    const auto now = Clock::now();
    for (std::size_t i = 0; i < n; ++i) start_if_due(i, now);
    co_return;
  }
  // The cursor walks the schedule in time order: connection `next` of period `cycle`.
  // Within a period connections are due in index order, and the last of one period is
  // due before the first of the next (a worker holds fewer than options.connections).
  std::size_t cycle = 0;
  std::size_t next = 0;
  while (true) {
    auto due = intended_at(next, cycle);
    if (due >= measure_end_) break;
    auto now = Clock::now();
    if (due > now) {
      timer.expires_at(due);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      now = Clock::now();
    }
    for (; due <= now && due < measure_end_; due = intended_at(next, cycle)) {
      start_if_due(next, now);
      if (++next == n) {
        next = 0;
        ++cycle;
      }
    }
  }
  // The schedule is over: idle connections are done; busy ones finish on their answer.
  pacer_done_ = true;
  for (std::size_t i = 0; i < n; ++i)
    if (!slots_[i].busy) finish(i);
}

void LoadWorker::start_if_due(std::size_t local, Clock::time_point now) {
  Slot& slot = slots_[local];
  if (slot.busy || slot.finished) return;
  Clock::time_point intended = now;
  if (options_.rate > 0) {
    intended = intended_at(local, slot.step);
    if (intended >= measure_end_) return finish(local);
    if (intended > now) {
      // Not yet: the pacer comes back for it, unless its walk is over.
      if (pacer_done_) finish(local);
      return;
    }
    if (now - intended > 1ms && intended >= measure_start_) ++result_.late_sends;
  } else if (now >= measure_end_) {
    return finish(local);
  }
  slot.intended = intended;
  slot.busy = true;
  const std::size_t per = options_.leases_per_connection;
  const std::size_t lease = local * per + slot.step % per;
  std::string& request = requests_in_flight_[local];
  requests_.renew(request, sidecars_[lease], ++seqs_[lease]);
  if (intended >= measure_start_ && intended < measure_end_) ++result_.sent;
  connections_[local]->send(request, *this, local);
}

void LoadWorker::finish(std::size_t local) {
  Slot& slot = slots_[local];
  if (slot.finished) return;
  slot.finished = true;
  --active_;
}

void LoadWorker::on_exchange(std::size_t local, const Exchange& ex) {
  Slot& slot = slots_[local];
  slot.busy = false;
  ++slot.step;
  const auto done = Clock::now();
  const bool measured = slot.intended >= measure_start_ && slot.intended < measure_end_;
  if (ex.ok() && ex.status >= 200 && ex.status < 300 && done >= measure_start_ && done < measure_end_)
    ++result_.ok_in_window;
  if (measured) {
    if (ex.ok()) {
      ++result_.status[ex.status];
      result_.latency.record(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(done - slot.intended).count()));
    } else {
      ++result_.errors[ex.error];
    }
  }
  if (!ex.ok() && ex.error == "connect") {
    // The server refuses connections: do not spin. Open loop, the pacer comes back to this
    // connection in its next period and it catches up (unless the schedule is over);
    // closed loop, it retries in 100 ms.
    if (options_.rate > 0) {
      if (pacer_done_) finish(local);
      return;
    }
    retry_.push_back(local);
    if (retry_.size() == 1) {
      retry_timer_.expires_after(100ms);
      retry_timer_.async_wait([this](boost::system::error_code) {
        std::vector<std::size_t> due;
        due.swap(retry_);
        const auto now = Clock::now();
        for (auto l : due) start_if_due(l, now);
      });
    }
    return;
  }
  start_if_due(local, done);
}

}  // namespace lifeline::bench
