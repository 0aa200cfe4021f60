#include "shared/http/server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <thread>

using namespace lifeline;
namespace asio = boost::asio;

namespace {

// Runs a Server on its own io_context thread for the duration of a test.
class ServerFixture : public ::testing::Test {
 protected:
  void start(http::ServerLimits limits = {}) {
    server_ = std::make_unique<http::Server>(
        io_,
        [this](const http::Request& req) -> asio::awaitable<http::Response> {
          if (req.path == "/slow") {
            // A handler that waits without holding the thread, as a group commit does.
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
            co_await t.async_wait(asio::use_awaitable);
          }
          ++requests_;
          http::Response r;
          if (req.path == "/big") {  // larger than the socket buffers: sent in parts
            r.content_type = "application/octet-stream";
            r.body.resize(8 << 20);
            for (std::size_t i = 0; i < r.body.size(); ++i) r.body[i] = static_cast<char>('a' + i % 23);
            co_return r;
          }
          if (req.path == "/echo") {  // every field of the request, to show that none leaks into the next
            r.content_type = "text/plain";
            r.body = req.method + "|" + req.query + "|" + req.content_type + "|" + req.authorization + "|" + req.body;
            co_return r;
          }
          r.body = "{\"method\":\"" + req.method + "\",\"path\":\"" + req.path + "\",\"q\":\"" +
                   req.query_param("state") + "\",\"len\":" + std::to_string(req.body.size()) + "}";
          co_return r;
        },
        limits, log_);
    auto port = server_->listen({"127.0.0.1", 0});
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  // A blocking socket connected to the server, for requests httplib would not send.
  asio::ip::tcp::socket connect_raw() {
    asio::ip::tcp::socket s(client_io_);
    s.connect({asio::ip::make_address("127.0.0.1"), port_});
    return s;
  }
  void TearDown() override {
    if (server_) asio::post(io_, [this] { server_->stop(); });
    if (thread_.joinable()) thread_.join();
  }

  SystemClock clock_;
  Logger log_{clock_, "test", LogLevel::error};
  asio::io_context io_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  asio::io_context client_io_;  // never run: connect_raw's sockets are used blocking
};

TEST_F(ServerFixture, ServesRequestsOnOneKeepAliveConnection) {
  start();
  httplib::Client cli("127.0.0.1", port_);
  cli.set_keep_alive(true);
  for (int i = 0; i < 5; ++i) {
    auto res = cli.Put("/v1/leases/x?state=active", "{\"a\":1}", "application/json");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "{\"method\":\"PUT\",\"path\":\"/v1/leases/x\",\"q\":\"active\",\"len\":7}");
  }
  EXPECT_EQ(requests_.load(), 5);
  // All five went over one connection, which is still open.
  std::promise<std::size_t> conns;
  asio::post(io_, [&] { conns.set_value(server_->connection_count()); });
  EXPECT_EQ(conns.get_future().get(), 1u);
}

// The server reuses one request's storage for the next on a connection: nothing of a
// request may show in the next, whichever fields it lacks, and headers beyond the fields'
// arena (1 KiB) are read whole.
TEST_F(ServerFixture, ARequestSeesNothingOfThePreviousOneOnItsConnection) {
  start();
  httplib::Client cli("127.0.0.1", port_);
  cli.set_keep_alive(true);
  auto full = cli.Put("/echo?a=1", httplib::Headers{{"Authorization", "Bearer t0ken"}}, "{\"k\":\"v\"}",
                      "application/json");
  ASSERT_TRUE(full) << httplib::to_string(full.error());
  EXPECT_EQ(full->body, "PUT|a=1|application/json|Bearer t0ken|{\"k\":\"v\"}");
  auto bare = cli.Get("/echo");
  ASSERT_TRUE(bare) << httplib::to_string(bare.error());
  EXPECT_EQ(bare->body, "GET||||");
  httplib::Headers many;
  for (int i = 0; i < 40; ++i) many.emplace("X-Filler-" + std::to_string(i), std::string(60, 'f'));
  many.emplace("Authorization", "Bearer after-the-arena");
  auto big = cli.Post("/echo?b=2", many, "body", "text/plain");
  ASSERT_TRUE(big) << httplib::to_string(big.error());
  EXPECT_EQ(big->body, "POST|b=2|text/plain|Bearer after-the-arena|body");
  auto again = cli.Get("/echo");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, "GET||||");
  std::promise<std::size_t> conns;
  asio::post(io_, [&] { conns.set_value(server_->connection_count()); });
  EXPECT_EQ(conns.get_future().get(), 1u);  // all four on one connection
}

TEST_F(ServerFixture, HandlersMayWaitWithoutBlockingOthers) {
  start();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port_);
      auto res = cli.Get("/slow");
      if (res && res->status == 200) ++ok;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 8);
}

TEST_F(ServerFixture, RejectsOversizedBodiesAndHeaders) {
  http::ServerLimits limits;
  limits.max_body_bytes = 1024;
  limits.max_header_bytes = 2048;
  start(limits);
  httplib::Client cli("127.0.0.1", port_);
  auto big = cli.Put("/v1/leases/x", std::string(4096, 'a'), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("\"error\":\"body_too_large\""), std::string::npos);
  httplib::Client cli2("127.0.0.1", port_);
  httplib::Headers h{{"X-Filler", std::string(4096, 'b')}};
  auto hdr = cli2.Get("/healthz", h);
  ASSERT_TRUE(hdr);
  EXPECT_EQ(hdr->status, 431);
  EXPECT_EQ(requests_.load(), 0);
}

// Everything a client sends until the server closes the connection.
std::string read_to_eof(asio::ip::tcp::socket& s) {
  std::string reply;
  boost::system::error_code ec;
  char buf[65536];
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    reply.append(buf, n);
  }
  return reply;
}

TEST_F(ServerFixture, AnswersMalformedRequestsWith400) {
  start();
  auto s = connect_raw();
  std::string garbage = "THIS IS NOT HTTP\r\n\r\n";
  asio::write(s, asio::buffer(garbage));
  const std::string reply = read_to_eof(s);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
}

// Two requests in one segment, then a chunked one a byte at a time: each is answered, in
// order, whatever the segments' boundaries.
TEST_F(ServerFixture, PipelinedAndFragmentedRequestsAreAnsweredInOrder) {
  start();
  auto s = connect_raw();
  s.set_option(asio::ip::tcp::no_delay(true));
  asio::write(s, asio::buffer(std::string("PUT /a?state=one HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                                          "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")));
  const std::string third =
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "4\r\nwxyz\r\n0\r\n\r\n";
  for (char c : third) asio::write(s, asio::buffer(&c, 1));
  const std::string reply = read_to_eof(s);
  const std::string a = R"({"method":"PUT","path":"/a","q":"one","len":3})";
  const std::string b = R"({"method":"GET","path":"/b","q":"","len":0})";
  const std::string c = R"({"method":"POST","path":"/c","q":"","len":4})";
  const auto pa = reply.find(a), pb = reply.find(b), pc = reply.find(c);
  ASSERT_NE(pa, std::string::npos) << reply;
  ASSERT_NE(pb, std::string::npos) << reply;
  ASSERT_NE(pc, std::string::npos) << reply;
  EXPECT_LT(pa, pb);
  EXPECT_LT(pb, pc);
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
  EXPECT_EQ(requests_.load(), 3);
}

// An answer far larger than what one send takes arrives whole and in order.
TEST_F(ServerFixture, LargeAnswersArriveWhole) {
  start();
  auto s = connect_raw();
  asio::write(s, asio::buffer(std::string("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  const std::string reply = read_to_eof(s);
  const auto head_end = reply.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string body = reply.substr(head_end + 4);
  ASSERT_EQ(body.size(), std::size_t{8} << 20);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < body.size(); ++i) wrong += body[i] != static_cast<char>('a' + i % 23);
  EXPECT_EQ(wrong, 0u);
}

// A client that closes its side in the middle of a request's header gets no answer for
// it; the handler never runs.
TEST_F(ServerFixture, RequestCutShortByTheClientIsNotHandled) {
  start();
  auto s = connect_raw();
  asio::write(s, asio::buffer(std::string("GET /x HTTP/1.1\r\nHo")));
  s.shutdown(asio::ip::tcp::socket::shutdown_send);
  const std::string reply = read_to_eof(s);
  EXPECT_TRUE(reply.empty() || reply.rfind("HTTP/1.1 400", 0) == 0) << reply;
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(ServerFixture, StopClosesIdleConnectionsSoRunReturns) {
  start();
  httplib::Client cli("127.0.0.1", port_);
  cli.set_keep_alive(true);
  ASSERT_TRUE(cli.Get("/healthz"));
  asio::post(io_, [this] { server_->stop(); });
  thread_.join();  // returns only if every connection coroutine ended
  SUCCEED();
}

}  // namespace
