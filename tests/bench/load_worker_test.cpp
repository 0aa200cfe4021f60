// The load generator's worker against a real HTTP server on 127.0.0.1: the open-loop
// schedule (how many requests a window holds), the closed loop, and the end of a run
// when the server goes away in the middle (every request sent is answered or counted as
// an error, and run() returns). Real time with short windows: the worker's schedule is
// the thing under test.
#include "tests/bench/load_worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "shared/http/server.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::bench {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class LoadWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<http::Server>(
        io_,
        [this](const http::Request&) -> asio::awaitable<http::Response> {
          ++requests_;
          http::Response r;
          r.body = R"({"status":"ok"})";
          co_return r;
        },
        http::ServerLimits{}, log_);
    auto port = server_->listen({"127.0.0.1", 0});
    ASSERT_TRUE(port.ok()) << port.error().message;
    options_.port = *port;
    options_.timeout_seconds = 5;
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    stop_server();
    if (thread_.joinable()) thread_.join();
  }
  void stop_server() {
    if (!stopped_.exchange(true)) asio::post(io_, [this] { server_->stop(); });
  }

  // A worker over `connections` connections with every one connected (and its first
  // heartbeat answered).
  std::unique_ptr<LoadWorker> connected_worker(std::size_t connections, double rate, double warmup,
                                               double duration, std::uint32_t tag) {
    options_.connections = connections;
    options_.rate = rate;
    options_.warmup_seconds = warmup;
    options_.duration_seconds = duration;
    auto worker = std::make_unique<LoadWorker>(options_, 0, connections, tag);
    worker->connect_all();
    EXPECT_EQ(worker->connected(), connections);
    return worker;
  }

  static std::uint64_t errors(const WorkerResult& r) {
    std::uint64_t n = 0;
    for (const auto& [kind, count] : r.errors) n += count;
    return n;
  }

  SystemClock clock_;
  Logger log_{clock_, "test", LogLevel::error};
  asio::io_context io_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  std::atomic<int> requests_{0};
  std::atomic<bool> stopped_{false};
  LoadOptions options_;
};

TEST_F(LoadWorkerTest, OpenLoopSendsTheScheduleOfTheWindowAndMeasuresEveryAnswer) {
  auto worker = connected_worker(40, 400, 0.2, 1.0, 7);  // each connection every 100 ms
  const int before = requests_.load();
  WorkerResult r = worker->run(LoadWorker::Clock::now() + 50ms);
  // The window holds rate x duration intended send times (give or take the tick grid).
  EXPECT_GE(r.sent, 390u);
  EXPECT_LE(r.sent, 410u);
  EXPECT_EQ(r.answered(), r.sent);
  EXPECT_EQ(r.status[200], r.sent);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.latency.count(), r.sent);
  EXPECT_EQ(r.open_at_end, 40u);
  EXPECT_EQ(r.reconnects, 0u);
  // Warm-up and window together: 1.2 s of the schedule, every request seen by the server.
  EXPECT_GE(requests_.load() - before, 470);
  EXPECT_LE(requests_.load() - before, 490);
}

TEST_F(LoadWorkerTest, ClosedLoopSendsAgainOnEveryAnswerUntilTheWindowEnds) {
  auto worker = connected_worker(8, 0, 0.1, 0.4, 8);
  WorkerResult r = worker->run(LoadWorker::Clock::now() + 20ms);
  EXPECT_GT(r.sent, 8u * 10);  // a round trip on 127.0.0.1 is far shorter than 5 ms
  EXPECT_EQ(r.answered(), r.sent);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.late_sends, 0u);
  EXPECT_GT(r.ok_in_window, 0u);
}

TEST_F(LoadWorkerTest, ARunEndsWhenTheServerGoesAwayAndCountsEveryRequest) {
  // A 3 s window: the kill lands about 0.5 s in, and even on a machine busy enough to delay
  // it by a second or two, more than 100 sends are left to fail.
  auto worker = connected_worker(40, 400, 0.1, 3.0, 9);
  const int before = requests_.load();
  std::thread killer([&] {
    // Half a second into the window, the server closes every connection and its port.
    testing::wait_until([&] { return requests_.load() - before >= 240; }, 10s);
    stop_server();
  });
  WorkerResult r = worker->run(LoadWorker::Clock::now() + 20ms);
  killer.join();
  EXPECT_GE(r.sent, 1190u);
  EXPECT_LE(r.sent, 1210u);
  EXPECT_GT(r.answered(), 100u);
  EXPECT_GT(errors(r), 100u);
  // Refused reconnects, or the close of a connection with a request in flight.
  for (const auto& [kind, count] : r.errors)
    EXPECT_TRUE(kind == "connect" || kind == "eof" || kind == "reset") << kind;
  EXPECT_EQ(r.answered() + errors(r), r.sent);
  EXPECT_EQ(r.open_at_end, 0u);
}

}  // namespace
}  // namespace lifeline::bench
