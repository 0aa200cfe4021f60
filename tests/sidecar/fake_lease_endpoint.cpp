// GCC 12 at -O2 reports "potential null pointer dereference" inside Asio's and
// libstdc++'s headers after inlining (false positives; -Werror would fail on them).
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "tests/sidecar/fake_lease_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "shared/clock.hpp"
#include "shared/http/server.hpp"
#include "shared/log.hpp"

namespace lifeline::testing {

namespace asio = boost::asio;

class FakeLeaseEndpoint::Impl {
 public:
  Impl()
      : log_(clock_, "fake-reaper", LogLevel::error),
        server_(io_, [this](const http::Request& r) { return handle(r); }, http::ServerLimits{}, log_) {
    auto port = server_.listen(HostPort{"127.0.0.1", 0});
    if (!port) throw std::runtime_error(port.error().message);
    port_ = *port;
    server_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Impl() {
    asio::post(io_, [this] {
      stopping_ = true;
      server_.stop();
      for (auto* t : hanging_) t->cancel();
    });
    thread_.join();
  }

  asio::awaitable<http::Response> handle(http::Request req) {
    Call call;
    call.method = req.method;
    call.path = req.path;
    call.authorization = req.authorization;
    call.body = nlohmann::json::parse(req.body, nullptr, false);
    call.received = std::chrono::steady_clock::now();
    Answer answer;
    std::chrono::milliseconds delay;
    int granted;
    std::string reason;
    std::size_t index;
    {
      std::lock_guard lock(mu_);
      answer = answer_;
      delay = delay_;
      granted = granted_ttl_;
      reason = reason_;
      index = calls_.size();
      calls_.push_back(call);
    }
    bool release = req.path.size() > 8 && req.path.substr(req.path.size() - 8) == "/release";
    if (answer == Answer::hang && !release) {
      // Accepts the request and never answers (until the endpoint is destroyed).
      asio::steady_timer t(io_, std::chrono::hours(1));
      hanging_.push_back(&t);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      std::erase(hanging_, &t);
      co_return http::json_error(503, "shutting_down", "fake endpoint stopping");
    }
    if (delay.count() > 0) {
      asio::steady_timer t(io_, delay);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    http::Response res;
    if (release) {
      res.body = R"({"released":true})";
    } else if (answer == Answer::unavailable) {
      res = http::json_error(503, "store_unavailable", "the store cannot make the renewal durable");
    } else if (answer == Answer::conflict) {
      res = http::json_error(409, "holder_conflict", "the lease belongs to another holder");
      res.body.insert(res.body.size() - 1, R"(,"directive":"stop")");
    } else {
      int ttl = granted > 0 ? granted : call.body.value("ttl_seconds", 30);
      nlohmann::json j = {{"run_id", "x"}, {"epoch", 1}, {"ttl_seconds", ttl},
                          {"directive", answer == Answer::stop ? "stop" : "continue"}};
      if (answer == Answer::stop) j["reason"] = reason;
      res.body = j.dump();
    }
    std::lock_guard lock(mu_);
    calls_[index].status = res.status;
    if (!release && res.status == 200 && answer == Answer::renew) last_renewal_ = call.received;
    co_return res;
  }

  asio::io_context io_;
  SystemClock clock_;
  Logger log_;
  http::Server server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::vector<asio::steady_timer*> hanging_;  // io thread only
  bool stopping_ = false;

  mutable std::mutex mu_;
  Answer answer_ = Answer::renew;
  std::string reason_ = "run was cancelled";
  int granted_ttl_ = 0;
  std::chrono::milliseconds delay_{0};
  std::vector<Call> calls_;
  std::optional<std::chrono::steady_clock::time_point> last_renewal_;
};

FakeLeaseEndpoint::FakeLeaseEndpoint() : impl_(std::make_unique<Impl>()) {}
FakeLeaseEndpoint::~FakeLeaseEndpoint() = default;
std::uint16_t FakeLeaseEndpoint::port() const { return impl_->port_; }
std::string FakeLeaseEndpoint::url() const { return "http://127.0.0.1:" + std::to_string(port()); }

void FakeLeaseEndpoint::set_answer(Answer a, std::string reason) {
  std::lock_guard lock(impl_->mu_);
  impl_->answer_ = a;
  impl_->reason_ = std::move(reason);
}
void FakeLeaseEndpoint::set_granted_ttl_seconds(int ttl) {
  std::lock_guard lock(impl_->mu_);
  impl_->granted_ttl_ = ttl;
}
void FakeLeaseEndpoint::set_delay(std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mu_);
  impl_->delay_ = d;
}
std::vector<FakeLeaseEndpoint::Call> FakeLeaseEndpoint::calls() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->calls_;
}
std::vector<FakeLeaseEndpoint::Call> FakeLeaseEndpoint::heartbeats() const {
  std::vector<Call> out;
  for (auto& c : calls())
    if (c.method == "PUT") out.push_back(c);
  return out;
}
std::vector<FakeLeaseEndpoint::Call> FakeLeaseEndpoint::releases() const {
  std::vector<Call> out;
  for (auto& c : calls())
    if (c.method == "POST") out.push_back(c);
  return out;
}
std::size_t FakeLeaseEndpoint::heartbeat_count() const { return heartbeats().size(); }
std::optional<std::chrono::steady_clock::time_point> FakeLeaseEndpoint::last_renewal() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->last_renewal_;
}

}  // namespace lifeline::testing
