// GCC 12 at -O2 reports "potential null pointer dereference" inside Asio's and
// libstdc++'s headers after inlining (false positives; -Werror would fail on them).
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "tests/support/tcp_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <list>
#include <thread>

namespace lifeline::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}

class TcpProxy::Impl {
 public:
  Impl(std::string host, std::uint16_t port)
      : target_(asio::ip::make_address(host), port), acceptor_(io_), hold_(io_) {
    open(0);
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Impl() {
    asio::post(io_, [this] {
      stopped_ = true;
      boost::system::error_code ec;
      acceptor_.close(ec);
      hold_.close(ec);
      reset_all();
      work_.reset();  // now run() may return once the sessions have wound down
    });
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  Mode mode() const { return mode_.load(); }
  std::uint64_t accepted() const { return accepted_.load(); }

  void set_mode(Mode m) {
    std::promise<void> done;
    asio::post(io_, [this, m, &done] {
      Mode old = mode_.exchange(m);
      boost::system::error_code ec;
      if (m == Mode::refuse && old != Mode::refuse) {
        acceptor_.close(ec);
        hold_port();
        reset_all();
      } else if (old == Mode::refuse && m != Mode::refuse) {
        hold_.close(ec);
        open(port_);
        asio::co_spawn(io_, accept_loop(), asio::detached);
      }
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  struct Session {
    explicit Session(asio::io_context& io) : client(io), upstream(io) {}
    tcp::socket client;
    tcp::socket upstream;
    bool upstream_open = false;
  };

  void open(std::uint16_t port) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
  }

  // While refusing, a socket bound to the port but not listening keeps it ours: a connection
  // to it is refused (RST) as to a closed port, but no outgoing connection can take the port
  // as its ephemeral one (a client connecting to it could even connect to itself), and the
  // proxy can always listen on it again. The port is free only between closing one socket
  // and binding the next.
  void hold_port() {
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port_);
    hold_.open(ep.protocol(), ec);
    if (!ec) hold_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) hold_.bind(ep, ec);
    if (ec) hold_.close(ec);  // refusing works without it; only the port is not held
  }

  void reset_all() {
    boost::system::error_code ec;
    for (auto& s : sessions_) {
      // SO_LINGER 0: the peer sees a reset, as from a crashed server.
      s->client.set_option(asio::socket_base::linger(true, 0), ec);
      s->client.close(ec);
      s->upstream.close(ec);
    }
  }

  asio::awaitable<void> accept_loop() {
    while (!stopped_ && mode_ != Mode::refuse) {
      auto [ec, sock] = co_await acceptor_.async_accept(kAwait);
      if (ec) co_return;
      ++accepted_;
      auto s = std::make_shared<Session>(io_);
      s->client = std::move(sock);
      sessions_.push_back(s);
      asio::co_spawn(io_, serve(s), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<Session> s) {
    if (mode_ == Mode::forward) {
      auto [ec] = co_await s->upstream.async_connect(target_, kAwait);
      if (!ec) {
        s->upstream_open = true;
        asio::co_spawn(io_, pump(s, s->upstream, s->client, false), asio::detached);
      }
    }
    co_await pump(s, s->client, s->upstream, true);
    sessions_.remove(s);
  }

  // Copies from -> to while forwarding; swallows the bytes while black-holing.
  asio::awaitable<void> pump(std::shared_ptr<Session> s, tcp::socket& from, tcp::socket& to, bool from_client) {
    char buf[16 * 1024];
    boost::system::error_code ec;
    while (true) {
      auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), kAwait);
      if (rec) break;
      if (mode_ != Mode::forward || !s->upstream_open) continue;
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf, n), kAwait);
      if (wec) break;
    }
    // A departed client takes its upstream along; a departed upstream takes the client
    // along unless black-holing, where the client must see a connection that just hangs.
    from.close(ec);
    if (from_client || mode_ != Mode::black_hole) to.close(ec);
  }

  asio::io_context io_;
  // In refuse mode with no session left the loop has no work; without this guard run()
  // returned, the thread ended, and the next set_mode() waited forever for its handler.
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  tcp::endpoint target_;
  tcp::acceptor acceptor_;
  tcp::socket hold_;  // bound, never listening: holds the port in refuse mode
  std::list<std::shared_ptr<Session>> sessions_;
  std::atomic<Mode> mode_{Mode::forward};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint16_t> port_{0};
  bool stopped_ = false;
  std::thread thread_;
};

TcpProxy::TcpProxy(std::string target_host, std::uint16_t target_port)
    : impl_(std::make_unique<Impl>(std::move(target_host), target_port)) {}
TcpProxy::~TcpProxy() = default;
std::uint16_t TcpProxy::port() const { return impl_->port(); }
std::string TcpProxy::url() const { return "http://127.0.0.1:" + std::to_string(port()); }
void TcpProxy::set_mode(Mode mode) { impl_->set_mode(mode); }
TcpProxy::Mode TcpProxy::mode() const { return impl_->mode(); }
std::uint64_t TcpProxy::connections_accepted() const { return impl_->accepted(); }

}  // namespace lifeline::testing
