#include "tests/bench/sidecar_swarm.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

#include "tests/bench/client_connection.hpp"

namespace lifeline::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

SidecarSwarm::SidecarSwarm(std::string host, std::uint16_t port, int ttl_seconds, std::chrono::milliseconds interval)
    : host_(std::move(host)), port_(port), requests_(host_, "", ttl_seconds), interval_(interval) {}

namespace {

asio::awaitable<void> live(asio::io_context& io, tcp::endpoint target, const HeartbeatRequests& requests,
                           std::chrono::milliseconds interval, SidecarLife& life) {
  ClientConnection conn(io.get_executor(), target);
  asio::steady_timer timer(io);
  std::string request;
  std::int64_t seq = 0;
  auto next = life.first_beat;
  while (next < life.death) {
    timer.expires_at(next);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    requests.renew(request, life.sidecar, ++seq);
    auto sent = WallClock::now();
    Exchange ex = co_await conn.round_trip(request);
    if (ex.ok() && ex.status == 200) {
      ++life.beats_ok;
      life.last_ack = sent;
    } else {
      ++life.beats_failed;
    }
    next += interval;  // drift-free, like the real sidecar's ticker
  }
  timer.expires_at(life.death);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (life.how == SidecarLife::Death::evict) {
    requests.release(request, life.sidecar, "evicted", 143);
    life.died_at = WallClock::now();
    Exchange ex = co_await conn.round_trip(request);
    life.release_status = ex.ok() ? ex.status : -1;
  } else {
    life.died_at = WallClock::now();
  }
  conn.abort("died");
}

asio::awaitable<void> beat_slice(asio::io_context& io, tcp::endpoint target, const HeartbeatRequests& requests,
                                 std::vector<SidecarLife>& lives, std::size_t first, std::size_t step) {
  ClientConnection conn(io.get_executor(), target);
  std::string request;
  for (std::size_t i = first; i < lives.size(); i += step) {
    SidecarLife& life = lives[i];
    requests.renew(request, life.sidecar, 1);
    auto sent = WallClock::now();
    Exchange ex = co_await conn.round_trip(request);
    if (ex.ok() && ex.status == 200) {
      ++life.beats_ok;
      life.last_ack = sent;
    } else {
      ++life.beats_failed;
    }
  }
  conn.abort("done");
}

}  // namespace

void SidecarSwarm::run(std::vector<SidecarLife>& lives) {
  asio::io_context io(1);
  tcp::endpoint target(asio::ip::make_address(host_), port_);
  for (auto& life : lives) asio::co_spawn(io, live(io, target, requests_, interval_, life), asio::detached);
  io.run();
}

void SidecarSwarm::beat_once(std::vector<SidecarLife>& lives, std::size_t connections) {
  asio::io_context io(1);
  tcp::endpoint target(asio::ip::make_address(host_), port_);
  for (std::size_t c = 0; c < connections; ++c)
    asio::co_spawn(io, beat_slice(io, target, requests_, lives, c, connections), asio::detached);
  io.run();
  for (auto& life : lives) life.died_at = WallClock::now();
}

}  // namespace lifeline::bench
