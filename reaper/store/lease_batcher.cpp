#include "reaper/store/lease_batcher.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>

#include <algorithm>
#include <memory_resource>
#include <unordered_set>
#include <utility>
#include <vector>

namespace lifeline::reaper::store {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

class LeaseBatcher::Job {
 public:
  virtual ~Job() = default;
  // Runs against `store`, or answers `unavailable` when store is null.
  virtual void run(LeaseBatcher& b, LeaseStore* store, const std::string& why) = 0;
};

class LeaseBatcher::ReleaseJob final : public Job {
 public:
  ReleaseJob(ReleaseRequest r, ReleaseHandler h) : req_(std::move(r)), handler_(std::move(h)) {}
  void run(LeaseBatcher& b, LeaseStore* store, const std::string& why) override {
    ReleaseResult out{ReleaseStatus::unavailable, 0, {}, why};
    if (store != nullptr) {
      auto r = store->release(req_, b.options_.commit_timeout);
      if (r) out = std::move(*r);
      else b.disconnect(r.error().message);
    }
    b.complete(std::move(handler_), std::move(out));
  }

 private:
  ReleaseRequest req_;
  ReleaseHandler handler_;
};

class LeaseBatcher::ListJob final : public Job {
 public:
  ListJob(LeaseQuery q, ListHandler h) : query_(std::move(q)), handler_(std::move(h)) {}
  void run(LeaseBatcher& b, LeaseStore* store, const std::string& why) override {
    LeaseList out;
    out.error = why;
    if (store != nullptr) {
      auto r = store->list(query_, b.options_.commit_timeout);
      if (r) {
        out.ok = true;
        out.leases = std::move(*r);
      } else {
        b.disconnect(r.error().message);
      }
    }
    b.complete(std::move(handler_), std::move(out));
  }

 private:
  LeaseQuery query_;
  ListHandler handler_;
};

LeaseBatcher::LeaseBatcher(asio::any_io_executor io, Options options, ReaperMetrics& metrics, const Logger& log)
    : io_(std::move(io)),
      options_(std::move(options)),
      metrics_(metrics),
      log_(log.with({{"component", "store"}})),
      flush_window_ms_(options_.flush_window.count()),
      max_batch_(options_.max_batch) {}

LeaseBatcher::~LeaseBatcher() { stop(); }

bool LeaseBatcher::start() {
  if (thread_.joinable()) return available();
  // First connection on the caller's thread, so that a reaper that says it is
  // listening can already make renewals durable. The store thread takes it over.
  if (connect()) {
    set_available(true);
    log_.info("database connected");
  }
  thread_ = std::thread([this] { run(); });
  return available();
}

void LeaseBatcher::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseBatcher::set_flush(Duration window, std::size_t max_batch) {
  flush_window_ms_.store(window.count());
  max_batch_.store(std::max<std::size_t>(1, max_batch));
}

namespace {
// Runs `fn` on `ex`: never inline (blocking.never: the caller is the store thread), and the
// target loop keeps running until it has run (outstanding_work.tracked).
template <typename Executor, typename Fn>
void run_on(const Executor& ex, Fn&& fn) {
  asio::prefer(ex, asio::execution::blocking.never, asio::execution::outstanding_work.tracked)
      .execute(std::forward<Fn>(fn));
}
}  // namespace

template <typename Handler, typename Value>
void LeaseBatcher::complete(Handler handler, Value value) {
  // A completion runs where its caller awaits: with several API threads, each request
  // coroutine resumes on its own io_context (the handler's associated executor), never on
  // the store thread. `io_` is only the fallback for a handler without an executor.
  auto ex = asio::get_associated_executor(handler, io_);
  run_on(ex, [h = std::move(handler), v = std::move(value)]() mutable { std::move(h)(std::move(v)); });
}

namespace {
// The answers of one batch, grouped by the executor their callers await on, so that each
// API thread is woken once per batch (one post, one scheduler lock, one wake-up) instead
// of once per heartbeat. Answers to one executor run in batch order.
class RenewAnswers {
 public:
  using Handler = LeaseBatcher::RenewHandler;
  explicit RenewAnswers(const asio::any_io_executor& fallback) : fallback_(fallback) {}
  RenewAnswers(const RenewAnswers&) = delete;
  RenewAnswers& operator=(const RenewAnswers&) = delete;
  // Every answer added is delivered, whichever way the batch ended.
  ~RenewAnswers() { post(); }

  void add(Handler handler, const asio::any_io_executor& executor, RenewResult result) {
    const asio::any_io_executor& ex = executor ? executor : fallback_;
    auto it = std::find_if(groups_.begin(), groups_.end(), [&](const Group& g) { return g.executor == ex; });
    if (it == groups_.end()) it = groups_.insert(groups_.end(), Group{ex, {}});
    it->answers.emplace_back(std::move(handler), std::move(result));
  }

 private:
  void post() {
    for (auto& g : groups_)
      run_on(g.executor, [answers = std::move(g.answers)]() mutable {
        for (auto& [h, r] : answers) std::move(h)(std::move(r));
      });
  }

  struct Group {
    asio::any_io_executor executor;
    std::vector<std::pair<Handler, RenewResult>> answers;
  };
  const asio::any_io_executor& fallback_;
  std::vector<Group> groups_;  // one per API thread: a linear search is the fastest
};
}  // namespace

void LeaseBatcher::submit_renew(RenewRequest req, RenewHandler handler, asio::any_io_executor executor) {
  bool wake = false;
  {
    std::unique_lock lk(mu_);
    if (!stopping_ && available() && renews_.size() < options_.max_pending) {
      renews_.push_back({std::move(req), std::move(handler), std::move(executor), Steady::now()});
      // Wake the store thread when it may be idle (first item) or may be waiting out
      // the flush window (a full batch). Otherwise it is busy and will look anyway.
      wake = renews_.size() == 1 || renews_.size() == max_batch_.load(std::memory_order_relaxed);
      handler = nullptr;
    }
  }
  if (wake) cv_.notify_one();
  if (handler) {
    RenewResult r{RenewStatus::unavailable, 0, req.ttl,
                  available() ? "too many heartbeats waiting for the store" : "database unreachable"};
    RenewAnswers answers(io_);
    answers.add(std::move(handler), executor, std::move(r));
  }
}

void LeaseBatcher::submit_release(ReleaseRequest req, ReleaseHandler handler) {
  submit_job(std::make_unique<ReleaseJob>(std::move(req), std::move(handler)));
}

void LeaseBatcher::submit_list(LeaseQuery q, ListHandler handler) {
  submit_job(std::make_unique<ListJob>(std::move(q), std::move(handler)));
}

void LeaseBatcher::submit_job(std::unique_ptr<Job> job) {
  {
    std::lock_guard lk(mu_);
    if (!stopping_ && available()) {
      jobs_.push_back(std::move(job));
    }
  }
  if (job) job->run(*this, nullptr, "database unreachable");
  else cv_.notify_one();
}

void LeaseBatcher::set_available(bool up) {
  available_.store(up, std::memory_order_release);
  metrics_.ready().Set(up ? 1 : 0);
}

bool LeaseBatcher::connect() {
  auto c = PgConnection::connect(options_.conninfo, options_.commit_timeout);
  if (!c) {
    log_.warn("database unreachable", {{"error", c.error().message}});
    return false;
  }
  conn_.emplace(std::move(*c));
  store_.emplace(*conn_);
  if (auto s = store_->prepare(); !s) {
    log_.warn("preparing statements failed", {{"error", s.error().message}});
    store_.reset();
    conn_.reset();
    return false;
  }
  return true;
}

void LeaseBatcher::disconnect(const std::string& why) {
  if (conn_ && conn_->healthy()) {
    // A statement error on a healthy connection (e.g. a constraint) is not an outage.
    log_.error("store query failed", {{"error", why}});
    return;
  }
  if (available()) log_.warn("database connection lost", {{"error", why}});
  set_available(false);
  store_.reset();
  conn_.reset();
}

void LeaseBatcher::fail_queued(const std::string& why) {
  std::deque<PendingRenew> renews;
  std::deque<std::unique_ptr<Job>> jobs;
  {
    std::lock_guard lk(mu_);
    renews.swap(renews_);
    jobs.swap(jobs_);
  }
  {
    RenewAnswers answers(io_);
    for (auto& p : renews)
      answers.add(std::move(p.handler), p.executor, RenewResult{RenewStatus::unavailable, 0, p.req.ttl, why});
  }
  for (auto& j : jobs) j->run(*this, nullptr, why);
}

void LeaseBatcher::run() {
  Duration backoff{100};
  auto last_activity = Steady::now();
  while (true) {
    if (!conn_ || !conn_->healthy()) {
      if (conn_) disconnect(conn_->last_error());
      fail_queued("database unreachable");
      {
        std::lock_guard lk(mu_);
        if (stopping_) break;
      }
      if (!connect()) {
        std::unique_lock lk(mu_);
        cv_.wait_for(lk, backoff, [&] { return stopping_; });
        backoff = std::min(backoff * 2, options_.max_backoff);
        continue;
      }
      backoff = Duration{100};
      last_activity = Steady::now();
      set_available(true);
      log_.info("database connected");
    }

    std::vector<PendingRenew> batch;
    std::deque<std::unique_ptr<Job>> jobs;
    {
      std::unique_lock lk(mu_);
      auto idle_deadline = last_activity + options_.ping_interval;
      cv_.wait_until(lk, idle_deadline, [&] { return stopping_ || !renews_.empty() || !jobs_.empty(); });
      if (renews_.empty() && jobs_.empty()) {
        if (stopping_) break;
        lk.unlock();
        // Idle: check the connection so /readyz notices an outage without traffic.
        if (auto s = store_->ping(options_.commit_timeout); !s) disconnect(s.error().message);
        last_activity = Steady::now();
        continue;
      }
      jobs.swap(jobs_);
      if (!renews_.empty()) {
        const std::size_t max_batch = max_batch_.load();
        auto flush_at = renews_.front().enqueued + Duration{flush_window_ms_.load()};
        cv_.wait_until(lk, flush_at, [&] { return stopping_ || renews_.size() >= max_batch; });
        // One batch of distinct runs; a second heartbeat of a run already in the batch
        // waits for the next one (one row cannot be upserted twice in a statement).
        // The set's nodes come from an arena reused by every batch: no allocation per heartbeat.
        std::pmr::monotonic_buffer_resource arena(id_arena_.data(), id_arena_.size(), std::pmr::new_delete_resource());
        std::pmr::unordered_set<std::string_view, RunIdHash> ids(&arena);
        std::deque<PendingRenew> later;
        batch.reserve(std::min(max_batch, renews_.size()));
        ids.reserve(batch.capacity());
        while (!renews_.empty() && batch.size() < max_batch) {
          PendingRenew& p = renews_.front();
          if (ids.insert(p.req.run_id).second) batch.push_back(std::move(p));
          else later.push_back(std::move(p));
          renews_.pop_front();
        }
        while (!later.empty()) {
          renews_.push_front(std::move(later.back()));
          later.pop_back();
        }
      }
    }
    for (auto& j : jobs) j->run(*this, store_ ? &*store_ : nullptr, "database unreachable");
    if (!batch.empty()) flush(batch);
    last_activity = Steady::now();
  }
  fail_queued("reaper is shutting down");
  set_available(false);
  store_.reset();
  conn_.reset();
}

void LeaseBatcher::flush(std::vector<PendingRenew>& batch) {
  // Heartbeats that waited longer than the commit timeout get 503 without a write:
  // their sidecar has given up on them already.
  auto now = Steady::now();
  RenewAnswers answers(io_);
  std::vector<RenewRequest> reqs;
  std::vector<PendingRenew*> live;
  reqs.reserve(batch.size());
  live.reserve(batch.size());
  for (auto& p : batch) {
    if (now - p.enqueued > options_.commit_timeout) {
      answers.add(std::move(p.handler), p.executor,
                  RenewResult{RenewStatus::unavailable, 0, p.req.ttl, "timed out waiting for the store"});
      continue;
    }
    reqs.push_back(std::move(p.req));
    live.push_back(&p);
  }
  if (reqs.empty()) return;
  if (!store_) {
    for (std::size_t i = 0; i < live.size(); ++i)
      answers.add(std::move(live[i]->handler), live[i]->executor,
                  RenewResult{RenewStatus::unavailable, 0, reqs[i].ttl, "database unreachable"});
    return;
  }
  auto started = Steady::now();
  auto results = store_->renew_batch(reqs, options_.commit_timeout);
  auto elapsed = std::chrono::duration<double>(Steady::now() - started).count();
  if (!results) {
    disconnect(results.error().message);
    for (std::size_t i = 0; i < live.size(); ++i)
      answers.add(std::move(live[i]->handler), live[i]->executor,
                  RenewResult{RenewStatus::unavailable, 0, reqs[i].ttl, "store failed: " + results.error().message});
    return;
  }
  batches_.fetch_add(1);
  metrics_.store_flush_duration().Observe(elapsed);
  metrics_.store_batch_size().Observe(static_cast<double>(reqs.size()));
  for (std::size_t i = 0; i < live.size(); ++i)
    answers.add(std::move(live[i]->handler), live[i]->executor, std::move((*results)[i]));
}

}  // namespace lifeline::reaper::store
