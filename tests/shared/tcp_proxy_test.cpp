// The fault-injection TCP proxy itself (tests/support/tcp_proxy.cpp): what each mode does to
// a client, and that refusing keeps the port, so the proxy can always listen on it again.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "tests/support/tcp_proxy.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <thread>

namespace lifeline::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// An upstream that echoes one line per connection, on its own thread.
class EchoOnce {
 public:
  EchoOnce() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      for (;;) {
        boost::system::error_code ec;
        tcp::socket s(io_);
        acceptor_.accept(s, ec);
        if (ec || stopping_) return;
        char buf[64];
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        if (!ec) asio::write(s, asio::buffer(buf, n), ec);
      }
    });
  }
  ~EchoOnce() {
    // Closing the acceptor does not wake a blocked accept(); a last connection does.
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = acceptor_.local_endpoint().port();
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

tcp::endpoint at(std::uint16_t port) { return {asio::ip::make_address("127.0.0.1"), port}; }

std::string round_trip(std::uint16_t port, boost::system::error_code& ec) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(at(port), ec);
  if (ec) return {};
  asio::write(s, asio::buffer(std::string("ping")), ec);
  if (ec) return {};
  char buf[4];
  asio::read(s, asio::buffer(buf), ec);
  return ec ? std::string() : std::string(buf, 4);
}

TEST(TcpProxy, RefusingHoldsThePortSoThatNothingElseCanTakeIt) {
  EchoOnce upstream;
  TcpProxy proxy("127.0.0.1", upstream.port());
  proxy.set_mode(TcpProxy::Mode::refuse);
  boost::system::error_code ec;
  round_trip(proxy.port(), ec);
  EXPECT_EQ(ec, asio::error::connection_refused) << ec.message();
  // No connection was ever made, so no TIME_WAIT pins the port: only the proxy's hold does.
  // (An outgoing connection's ephemeral port could otherwise take it, and the proxy could
  // not listen on it again: bind EADDRINUSE.)
  asio::io_context io;
  tcp::acceptor other(io);
  other.open(tcp::v4());
  boost::system::error_code bind_ec;
  other.bind(at(proxy.port()), bind_ec);
  EXPECT_EQ(bind_ec, asio::error::address_in_use) << bind_ec.message();
  other.close();
  proxy.set_mode(TcpProxy::Mode::forward);
  EXPECT_EQ(round_trip(proxy.port(), ec), "ping") << ec.message();
}

TEST(TcpProxy, ForwardsRefusesAndForwardsAgainOnTheSamePort) {
  EchoOnce upstream;
  TcpProxy proxy("127.0.0.1", upstream.port());
  const std::uint16_t port = proxy.port();
  boost::system::error_code ec;
  for (int outage = 0; outage < 2; ++outage) {
    EXPECT_EQ(round_trip(port, ec), "ping") << ec.message();
    proxy.set_mode(TcpProxy::Mode::refuse);
    round_trip(port, ec);
    EXPECT_EQ(ec, asio::error::connection_refused) << ec.message();
    proxy.set_mode(TcpProxy::Mode::forward);
  }
  EXPECT_EQ(round_trip(port, ec), "ping") << ec.message();
  EXPECT_EQ(proxy.port(), port);
}

TEST(TcpProxy, RefusingAfterABlackHoleResetsItsConnectionsAndListensAgain) {
  EchoOnce upstream;
  TcpProxy proxy("127.0.0.1", upstream.port());
  proxy.set_mode(TcpProxy::Mode::black_hole);
  asio::io_context io;
  tcp::socket held(io);
  held.connect(at(proxy.port()));
  asio::write(held, asio::buffer(std::string("lost")));
  proxy.set_mode(TcpProxy::Mode::refuse);
  char buf[4];
  boost::system::error_code ec;
  asio::read(held, asio::buffer(buf), ec);
  EXPECT_EQ(ec, asio::error::connection_reset) << ec.message();
  proxy.set_mode(TcpProxy::Mode::forward);
  EXPECT_EQ(round_trip(proxy.port(), ec), "ping") << ec.message();
}

}  // namespace
}  // namespace lifeline::testing
