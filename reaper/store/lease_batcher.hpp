#pragma once
// Group commit of heartbeats. Renewals arriving within `flush_window` of the oldest
// waiting one (or until `max_batch` are waiting) share one PostgreSQL round trip: one
// multi-row upsert committed once. Each caller is answered only after its batch commits.
// Releases and listings go through the same thread, one statement each.
//
// Threading: the batcher owns one thread (the store thread) and one database connection
// (libpq is blocking). async_* may be called from any thread (the API threads share one
// batcher); each completion is posted to the executor associated with its handler (for a
// coroutine, the io_context it awaits on), else to the executor given at construction;
// never run on the store thread. While the database is unreachable every call is answered
// `unavailable` at once and the store thread reconnects with backoff.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "reaper/metrics.hpp"
#include "reaper/store/lease_store.hpp"
#include "reaper/store/lease_types.hpp"
#include "shared/log.hpp"

namespace lifeline::reaper::store {

class LeaseBatcher {
 public:
  struct Options {
    std::string conninfo;
    Duration flush_window{2};
    std::size_t max_batch = 2000;
    Duration commit_timeout{5'000};  // bound on a round trip and on waiting in the queue
    std::size_t max_pending = 100'000;
    Duration ping_interval{1'000};   // an idle store checks its connection this often
    Duration max_backoff{5'000};     // reconnect backoff cap
  };

  using RenewHandler = boost::asio::any_completion_handler<void(RenewResult)>;
  using ReleaseHandler = boost::asio::any_completion_handler<void(ReleaseResult)>;
  using ListHandler = boost::asio::any_completion_handler<void(LeaseList)>;

  // `io` is where completions run: the io_context whose coroutines call async_*.
  LeaseBatcher(boost::asio::any_io_executor io, Options options, ReaperMetrics& metrics, const Logger& log);
  ~LeaseBatcher();
  LeaseBatcher(const LeaseBatcher&) = delete;
  LeaseBatcher& operator=(const LeaseBatcher&) = delete;

  // Connects (once, on the caller's thread) and starts the store thread, which
  // reconnects on its own from then on. Returns whether the first connection worked.
  bool start();
  // Stops taking new work, finishes what is queued, closes the connection, joins.
  void stop();

  // True while the database connection is up (for /readyz).
  bool available() const { return available_.load(std::memory_order_acquire); }
  // Group-commit settings that a configuration reload may change.
  void set_flush(Duration window, std::size_t max_batch);
  // Upsert round trips committed so far (tests and benchmarks compare it to requests).
  std::uint64_t batches_committed() const { return batches_.load(); }

  template <typename Token>
  auto async_renew(RenewRequest req, Token&& token) {
    return boost::asio::async_initiate<Token, void(RenewResult)>(
        [this](auto handler, RenewRequest r) {
          // Looked up while the handler's type is known: through the type-erased handler
          // it would cost two allocations per heartbeat on the store thread.
          boost::asio::any_io_executor ex = boost::asio::get_associated_executor(handler, io_);
          submit_renew(std::move(r), RenewHandler(std::move(handler)), std::move(ex));
        },
        token, std::move(req));
  }
  template <typename Token>
  auto async_release(ReleaseRequest req, Token&& token) {
    return boost::asio::async_initiate<Token, void(ReleaseResult)>(
        [this](auto handler, ReleaseRequest r) {
          submit_release(std::move(r), ReleaseHandler(std::move(handler)));
        },
        token, std::move(req));
  }
  template <typename Token>
  auto async_list(LeaseQuery query, Token&& token) {
    return boost::asio::async_initiate<Token, void(LeaseList)>(
        [this](auto handler, LeaseQuery q) { submit_list(std::move(q), ListHandler(std::move(handler))); }, token,
        std::move(query));
  }

 private:
  struct PendingRenew {
    RenewRequest req;
    RenewHandler handler;
    boost::asio::any_io_executor executor;  // where the handler runs
    std::chrono::steady_clock::time_point enqueued;
  };
  class Job;  // a release or a listing, run alone
  class ReleaseJob;
  class ListJob;

  void submit_renew(RenewRequest req, RenewHandler handler, boost::asio::any_io_executor executor);
  void submit_release(ReleaseRequest req, ReleaseHandler handler);
  void submit_list(LeaseQuery q, ListHandler handler);
  void submit_job(std::unique_ptr<Job> job);

  void run();
  bool connect();
  void disconnect(const std::string& why);
  void fail_queued(const std::string& why);
  void flush(std::vector<PendingRenew>& batch);
  void set_available(bool up);

  template <typename Handler, typename Value>
  void complete(Handler handler, Value value);

  boost::asio::any_io_executor io_;
  Options options_;
  ReaperMetrics& metrics_;
  Logger log_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingRenew> renews_;
  std::deque<std::unique_ptr<Job>> jobs_;
  bool stopping_ = false;

  std::atomic<bool> available_{false};
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::int64_t> flush_window_ms_;
  std::atomic<std::size_t> max_batch_;

  // Owned by the store thread.
  std::vector<std::byte> id_arena_ = std::vector<std::byte>(128 * 1024);  // a batch's distinct-run set
  std::optional<PgConnection> conn_;
  std::optional<LeaseStore> store_;
  std::thread thread_;
};

}  // namespace lifeline::reaper::store
