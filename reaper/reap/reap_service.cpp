#include "reaper/reap/reap_service.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>

#include "reaper/prefect/http_prefect_client.hpp"
#include "reaper/prefect/prefect_error.hpp"
#include "reaper/reap/backoff.hpp"
#include "reaper/reap/orphan_rules.hpp"
#include "reaper/reap/reap_store.hpp"
#include "reaper/reap/reap_worker.hpp"
#include "reaper/reap/sweep_cursor.hpp"
#include "reaper/reap/wakeup_listener.hpp"
#include "reaper/store/pg_connection.hpp"
#include "shared/address.hpp"
#include "shared/uuid.hpp"

namespace lifeline::reaper::reap {

using std::chrono::duration_cast;

namespace {

constexpr Duration kDbTimeout{30'000};
constexpr Duration kConnectTimeout{5'000};
constexpr std::size_t kDetectRounds = 20;  // detection statements per tick while a backlog remains
// Reap workers per Prefect slot: a worker spends about 38 % of a job in PostgreSQL, so one
// worker per slot leaves slots idle; two keep every slot busy with room to spare.
constexpr std::size_t kWorkersPerSlot = 2;
// Detection looks again at the next lease expiry when it comes before the next tick, but
// no sooner than this after the last look: bounds the detection statements per second
// while leases expire one after another.
constexpr Duration kMinDetectGap{100};
// Added to the next expiry: the database's now() must have passed it when we look.
constexpr Duration kExpiryMargin{5};
// Gauges of released and reaped leases (full counts) and retention passes: once a minute.
constexpr Duration kFinishedGaugesEvery{60'000};
constexpr Duration kPurgeEvery{60'000};
constexpr int kPurgeBatches = 4;
constexpr std::size_t kPurgeBatchRows = 5'000;

std::string make_replica_id() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "reaper") + "-" + uuid_v4().substr(0, 8);
}

// A database connection that reconnects on demand.
struct Db {
  std::optional<store::PgConnection> conn;
  std::optional<ReapStore> store;

  // Connects if needed; false when the database is unreachable.
  bool ensure(const std::string& url, const std::string& replica, const Logger& log, bool& logged_down) {
    if (conn && conn->healthy()) return true;
    store.reset();
    conn.reset();
    auto c = store::PgConnection::connect(url, kConnectTimeout);
    if (!c) {
      if (!logged_down) log.warn("reap pipeline cannot reach the database", {{"error", c.error().message}});
      logged_down = true;
      return false;
    }
    conn.emplace(std::move(c).value());
    store.emplace(*conn, replica, kDbTimeout);
    if (auto s = store->prepare_session(); !s) {
      log.warn("could not prepare a reap database session", {{"error", s.error().message}});
      store.reset();
      conn.reset();
      return false;
    }
    if (logged_down) log.info("reap pipeline reconnected to the database");
    logged_down = false;
    return true;
  }
  void drop_if_broken() {
    if (conn && !conn->healthy()) close();
  }
  void close() {
    store.reset();
    conn.reset();
  }
};

std::int64_t ticks(SteadyTime t) { return t.time_since_epoch().count(); }

}  // namespace

ReapService::ReapService(const Config& config, std::string database_url, ReaperMetrics& metrics, const Logger& log,
                         const Clock& clock)
    : database_url_(std::move(database_url)),
      metrics_(metrics),
      log_(log),
      clock_(clock),
      replica_(make_replica_id()),
      config_(std::make_shared<const Config>(config)),
      status_cache_(clock, config.reaper.status_refresh) {
  log_ = log.with({{"replica", replica_}});
}

ReapService::~ReapService() { stop(); }

std::shared_ptr<const Config> ReapService::config() const {
  std::lock_guard lock(config_mu_);
  return config_;
}

void ReapService::reload(const Config& config) {
  {
    std::lock_guard lock(config_mu_);
    config_ = std::make_shared<const Config>(config);
  }
  config_generation_.fetch_add(1);
  status_cache_.set_refresh(config.reaper.status_refresh);
  wake();
}

void ReapService::wake() {
  detect_requested_.store(true);
  signal_scheduler();
}

void ReapService::signal_scheduler() {
  if (wake_fd_ < 0) return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void ReapService::pause(Duration d) {
  std::unique_lock lock(pause_mu_);
  pause_cv_.wait_for(lock, d, [&] { return stopping_.load(); });
}

bool ReapService::prefect_paused() const { return ticks(clock_.steady_now()) < prefect_pause_until_.load(); }

void ReapService::note_prefect(bool transient_failure) {
  if (!transient_failure) {
    prefect_failures_.store(0);
    return;
  }
  // Calls that were already in flight when Prefect started failing fail together; they are
  // one failed probe, not many. Escalate only on a failure after the last pause ended, so a
  // short outage costs a short pause (250 ms, 500 ms, 1 s, ...) and not the 30 s cap.
  if (prefect_paused()) return;
  const int n = prefect_failures_.fetch_add(1) + 1;
  thread_local std::mt19937_64 rng(std::random_device{}());
  const Duration d = transient_delay(n, Duration{250}, Duration{30'000},
                                     std::uniform_real_distribution<double>(0, 1)(rng));
  prefect_pause_until_.store(ticks(clock_.steady_now() + duration_cast<SteadyTime::duration>(d)));
}

void ReapService::start() {
  if (started_) return;
  auto cfg = config();
  if (auto u = parse_http_url(cfg->prefect.api_url); !u)
    throw std::invalid_argument("prefect.api_url: " + u.error().message);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
  stopping_.store(false);
  started_ = true;
  prefect_slots_ = std::make_unique<PrefectSlots>(cfg->prefect.max_in_flight);
  workers_ = kWorkersPerSlot * prefect_slots_->capacity();
  const std::size_t workers = workers_;
  threads_.emplace_back([this] { scheduler_loop(); });
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
  threads_.emplace_back([this] { sweeper_loop(); });
  threads_.emplace_back([this] { status_loop(); });
  log_.info("reap service started",
            {{"workers", workers}, {"prefect_slots", prefect_slots_->capacity()}, {"dry_run", cfg->reaper.dry_run}});
}

void ReapService::stop() {
  if (!started_) return;
  {
    std::lock_guard l1(queue_mu_);
    std::lock_guard l2(pause_mu_);
    stopping_.store(true);
  }
  queue_cv_.notify_all();
  pause_cv_.notify_all();
  signal_scheduler();
  for (auto& t : threads_) t.join();
  threads_.clear();
  ::close(wake_fd_);
  wake_fd_ = -1;
  started_ = false;
  log_.info("reap service stopped");
}

void ReapService::purge(ReapStore& store, Duration retention) {
  // A few batches a pass: a backlog (retention just shortened, or a first start on an old
  // database) drains over several passes instead of one long transaction.
  PurgeReport sum;
  for (int batch = 0; batch < kPurgeBatches; ++batch) {
    auto r = store.purge(retention, kPurgeBatchRows);
    if (!r) {
      log_.warn("retention pass failed", {{"error", r.error().message}});
      break;
    }
    sum.audit += r->audit;
    sum.completion_checks += r->completion_checks;
    sum.jobs += r->jobs;
    sum.leases += r->leases;
    sum.run_attempts += r->run_attempts;
    if (std::max({r->audit, r->completion_checks, r->jobs, r->leases, r->run_attempts}) <
        static_cast<std::int64_t>(kPurgeBatchRows))
      break;
  }
  metrics_.retention_deleted("audit").Increment(static_cast<double>(sum.audit));
  metrics_.retention_deleted("completion_checks").Increment(static_cast<double>(sum.completion_checks));
  metrics_.retention_deleted("jobs").Increment(static_cast<double>(sum.jobs));
  metrics_.retention_deleted("leases").Increment(static_cast<double>(sum.leases));
  metrics_.retention_deleted("run_attempts").Increment(static_cast<double>(sum.run_attempts));
  if (sum.total() > 0)
    log_.info("retention: old rows deleted",
              {{"audit", std::to_string(sum.audit)}, {"completion_checks", std::to_string(sum.completion_checks)},
               {"jobs", std::to_string(sum.jobs)}, {"leases", std::to_string(sum.leases)},
               {"run_attempts", std::to_string(sum.run_attempts)}});
}

void ReapService::scheduler_loop() {
  Db db;
  bool logged_down = false;
  std::optional<WakeupListener> listener;
  bool need_grant = true;  // an outage of our own: we are just starting
  bool db_was_lost = false;
  SteadyTime last_db_ok = clock_.steady_now();
  SteadyTime next_tick = clock_.steady_now();
  SteadyTime next_gauges = clock_.steady_now();
  SteadyTime next_finished_gauges = clock_.steady_now();
  SteadyTime next_purge = clock_.steady_now();

  auto db_failed = [&](const Error& e, const char* what) {
    log_.warn(what, {{"error", e.message}});
    db.drop_if_broken();
    if (!db.conn) db_was_lost = true;
  };

  // Claim as many jobs as there is room for: every worker busy and one slot's worth
  // queued (queued + in progress <= workers + slots). max_in_flight is read from the
  // slots, not from a reloaded configuration: the thread count is fixed at start.
  // While jobs are still queued, claim only once half a slot's worth of room is free:
  // under a backlog each claim statement then takes several jobs instead of one per
  // finished job, and no worker waits (the queue is not empty). False when the database
  // failed.
  auto claim_jobs = [&](Duration claim_timeout) -> bool {
    std::size_t room = 0;
    bool queue_empty = true;
    const std::size_t cap = workers_ + prefect_slots_->capacity();
    {
      std::lock_guard lock(queue_mu_);
      room = outstanding_ < cap ? cap - outstanding_ : 0;
      queue_empty = queue_.empty();
    }
    const std::size_t min_claim = std::max<std::size_t>(1, prefect_slots_->capacity() / 2);
    if (room == 0 || (!queue_empty && room < min_claim)) return true;
    auto jobs = db.store->claim(room, claim_timeout);
    if (!jobs) {
      db_failed(jobs.error(), "claiming reap jobs failed");
      return false;
    }
    if (!jobs->empty()) {
      std::lock_guard lock(queue_mu_);
      for (auto& j : *jobs) queue_.push_back(std::move(j));
      outstanding_ += jobs->size();
      queue_cv_.notify_all();
    }
    return true;
  };

  while (!stopping_.load()) {
    auto cfg = config();
    const Duration interval = cfg->reaper.interval;
    const auto now = clock_.steady_now();

    if (db.ensure(database_url_, replica_, log_, logged_down)) {
      if (db_was_lost && now - last_db_ok > interval) need_grant = true;
      db_was_lost = false;
      if (!listener || !listener->healthy()) {
        auto l = WakeupListener::connect(database_url_);
        if (l) listener.emplace(std::move(l).value());
        else listener.reset();
      }

      const bool tick = now >= next_tick || detect_requested_.exchange(false);
      bool ok = true;
      if (tick) {
        if (need_grant) {
          // Chubby/etcd-style fail-over grace: after our own outage, sidecars may have been
          // unable to renew through us; give every active lease a fresh TTL before reaping,
          // unless another replica demonstrably kept sweeping (and serving) meanwhile.
          const Duration fresh = std::max(Duration{2'000}, 3 * interval);
          auto g = db.store->grant_after_outage(fresh);
          if (g) {
            need_grant = false;
            log_.info(g->extended ? "outage rule: active leases given a fresh TTL before reaping"
                                  : "outage rule: another replica kept sweeping; no extension",
                      {{"leases", g->leases},
                       {"last_sweep_age_s", g->last_sweep_age ? std::to_string(*g->last_sweep_age) : "never"}});
          } else {
            ok = false;
            db_failed(g.error(), "outage rule failed");
          }
        }
        std::optional<Duration> next_expiry;
        for (std::size_t round = 0; ok && !need_grant && round < kDetectRounds; ++round) {
          auto d = db.store->detect(cfg->reaper.batch_size);
          if (!d) {
            ok = false;
            db_failed(d.error(), "dead-lease detection failed");
            break;
          }
          next_expiry = d->next_expiry;
          if (d->expired + d->released > 0) {
            log_.info("dead leases detected", {{"expired", d->expired}, {"released", d->released}});
            // Hand the jobs out before looking for more: when thousands of leases expire
            // together, the workers start after the first batch, not after all of them.
            if (!prefect_paused() && !claim_jobs(cfg->reaper.claim_timeout)) {
              ok = false;
              break;
            }
          }
          if (static_cast<std::size_t>(d->expired) < cfg->reaper.batch_size &&
              static_cast<std::size_t>(d->released) < cfg->reaper.batch_size)
            break;
        }
        if (ok && now >= next_gauges) {
          next_gauges = now + interval;
          // Released and reaped leases are counted once a minute: their count is bounded
          // only by the retention (a full count of millions of rows every tick would not be).
          const bool with_finished = now >= next_finished_gauges;
          if (with_finished) next_finished_gauges = now + kFinishedGaugesEvery;
          if (auto c = db.store->lease_counts(with_finished)) {
            for (const auto& [state, n] : *c) metrics_.leases(state).Set(static_cast<double>(n));
          }
          if (auto b = db.store->backlog()) metrics_.reap_backlog().Set(static_cast<double>(*b));
        }
        if (ok && cfg->reaper.retention > Duration{0} && now >= next_purge) {
          next_purge = now + kPurgeEvery;
          purge(*db.store, cfg->reaper.retention);
        }
        next_tick = now + interval;
        // A lease expiring before the next tick is looked at when it expires, so death ->
        // detection does not wait up to one interval for the tick (the TTL is the bound).
        if (ok && next_expiry) {
          const auto at = clock_.steady_now() + duration_cast<SteadyTime::duration>(
                                                    std::max(*next_expiry + kExpiryMargin, kMinDetectGap));
          next_tick = std::min(next_tick, at);
        }
      }

      if (ok && !prefect_paused()) ok = claim_jobs(cfg->reaper.claim_timeout);
      if (ok) last_db_ok = clock_.steady_now();
    } else {
      db_was_lost = true;
      listener.reset();
    }

    // Wait for the next tick, a wake-up (ours or a NOTIFY), or a worker freeing room.
    auto wait = duration_cast<std::chrono::milliseconds>(next_tick - clock_.steady_now());
    if (!db.conn) wait = std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds(500));
    if (prefect_paused()) wait = std::min<std::chrono::milliseconds>(wait, std::chrono::milliseconds(250));
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {listener ? listener->socket() : -1, POLLIN, 0}};
    const int timeout_ms = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 60'000));
    if (::poll(fds, 2, timeout_ms) > 0) {
      if ((fds[0].revents & POLLIN) != 0) {
        std::uint64_t v = 0;
        [[maybe_unused]] auto n = ::read(wake_fd_, &v, sizeof v);
      }
      if ((fds[1].revents & (POLLIN | POLLERR | POLLHUP)) != 0 && listener) {
        if (listener->drain()) detect_requested_.store(true);
        if (!listener->healthy()) listener.reset();
      }
    }
  }
}

void ReapService::worker_loop(std::size_t index) {
  Db db;
  bool logged_down = false;
  std::unique_ptr<prefect::HttpPrefectClient> api;
  std::uint64_t api_generation = ~std::uint64_t{0};
  const Logger log = log_.with({{"worker", index}});

  while (true) {
    ReapJob job;
    {
      std::unique_lock lock(queue_mu_);
      const auto ready = [&] { return !queue_.empty() || stopping_.load(); };
      // A worker without work gives its database connection back after a while: the
      // service at rest holds its three own connections, not one per worker (2 x max_in_flight).
      if (db.conn && !queue_cv_.wait_for(lock, worker_idle_close_, ready)) {
        lock.unlock();
        db.close();
        log.debug("idle reap worker closed its database connection");
        continue;
      }
      queue_cv_.wait(lock, ready);
      if (queue_.empty()) return;  // stopping and nothing left to hand back
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    auto cfg = config();
    const auto gen = config_generation_.load();
    if (!api || gen != api_generation) {
      api = std::make_unique<prefect::HttpPrefectClient>(cfg->prefect, metrics_, clock_);
      api_generation = gen;
    }
    JobEnd end = JobEnd::db_error;
    if (db.ensure(database_url_, replica_, log, logged_down)) {
      SlotLimitedPrefect limited(*api, *prefect_slots_);
      ReapWorker worker(limited, *db.store, metrics_, log, clock_, deployment_names_, &status_cache_);
      end = worker.run(std::move(job), *cfg, stopping_);
      if (end == JobEnd::db_error) db.drop_if_broken();
    }
    // A deferral while not stopping means Prefect failed: slow the claims down a little.
    if (end == JobEnd::deferred && !stopping_.load()) note_prefect(true);
    else if (end == JobEnd::finished) note_prefect(false);
    {
      std::lock_guard lock(queue_mu_);
      --outstanding_;
    }
    signal_scheduler();
  }
}

void ReapService::sweeper_loop() {
  Db db;
  bool logged_down = false;
  std::unique_ptr<prefect::HttpPrefectClient> api;
  std::uint64_t api_generation = ~std::uint64_t{0};
  SteadyTime next_orphan_sweep = clock_.steady_now();
  SweepCursor running_cursor(prefect::kMaxPageSize, orphan_pages_per_pass_);
  SweepCursor pending_cursor(prefect::kMaxPageSize, orphan_pages_per_pass_);
  const Logger log = log_.with({{"thread", "sweeper"}});

  while (!stopping_.load()) {
    auto cfg = config();
    pause(cfg->reaper.interval);
    if (stopping_.load()) break;
    const auto gen = config_generation_.load();
    if (!api || gen != api_generation) {
      api = std::make_unique<prefect::HttpPrefectClient>(cfg->prefect, metrics_, clock_);
      api_generation = gen;
    }
    if (!db.ensure(database_url_, replica_, log, logged_down)) continue;
    if (prefect_paused()) continue;

    // Exit-0 releases past completion_grace: still RUNNING in Prefect -> a job (incomplete).
    if (auto cands = db.store->completion_candidates(cfg->leases.completion_grace, prefect::kMaxPageSize);
        cands && !cands->empty()) {
      std::vector<std::string> ids;
      for (const auto& c : *cands) ids.push_back(c.run_id);
      auto runs = api->filter_flow_runs(prefect::flow_runs_by_id_body(ids));
      if (runs) {
        std::map<std::string, std::string> state_of;
        for (const auto& r : *runs) state_of[r.id] = r.state_type();
        bool created = false;
        for (const auto& c : *cands) {
          auto it = state_of.find(c.run_id);
          const std::string type = it == state_of.end() ? "MISSING" : it->second;
          if (type == "RUNNING") {
            auto ins = db.store->insert_incomplete_job(c);
            created = created || (ins && *ins);
          } else {
            (void)db.store->record_completion_check(c.run_id, c.epoch, type);
          }
        }
        if (created) wake();
      } else {
        log.warn("completion check failed", {{"error", runs.error().message}});
      }
    } else if (!cands) {
      db.drop_if_broken();
      continue;
    }

    // The orphan sweep.
    const Duration grace = shortest_orphan_grace(*cfg);
    if (grace.count() == 0 || clock_.steady_now() < next_orphan_sweep) continue;
    next_orphan_sweep = clock_.steady_now() + std::max(cfg->reaper.interval, grace / 4);
    const WallTime now = clock_.wall_now();
    std::vector<prefect::FlowRun> runs;
    bool failed = false;
    // A pass that fails anywhere is repeated from where it began, so no run is passed over.
    running_cursor.begin_pass();
    pending_cursor.begin_pass();
    auto repeat_pass = [&] {
      running_cursor.pass_failed();
      pending_cursor.pass_failed();
    };
    struct Listing {
      SweepCursor& cursor;
      const char* state;
      std::optional<WallTime> started_before;
    } listings[] = {{running_cursor, "RUNNING", now - grace}, {pending_cursor, "PENDING", std::nullopt}};
    for (Listing& l : listings) {
      for (int offset = l.cursor.offset();;) {
        auto r = api->filter_flow_runs(prefect::flow_runs_in_states_body(
            {l.state}, cfg->reaper.work_pools, l.started_before, prefect::kMaxPageSize, offset));
        if (!r) {
          log.warn("orphan sweep could not list runs", {{"error", r.error().message}});
          repeat_pass();
          failed = true;
          break;
        }
        runs.insert(runs.end(), r->begin(), r->end());
        if (!l.cursor.page_read(r->size(), offset)) break;
      }
      if (failed) break;
    }
    if (failed || runs.empty()) continue;
    std::set<std::string> leased;
    for (std::size_t i = 0; i < runs.size(); i += 1000) {
      std::vector<std::string> ids;
      for (std::size_t k = i; k < std::min(runs.size(), i + 1000); ++k) ids.push_back(runs[k].id);
      auto have = db.store->runs_with_leases(ids);
      if (!have) {
        log.warn("orphan sweep could not read leases", {{"error", have.error().message}});
        repeat_pass();
        failed = true;
        break;
      }
      leased.insert(have->begin(), have->end());
    }
    if (failed) {
      db.drop_if_broken();
      continue;
    }
    auto orphans = select_orphans(runs, leased, *cfg, deployment_names_, now);
    if (orphans.empty()) continue;
    auto created = db.store->insert_orphan_jobs(orphans);
    if (!created) {
      log.warn("orphan sweep could not record jobs", {{"error", created.error().message}});
      repeat_pass();
      db.drop_if_broken();
    } else if (*created > 0) {
      log.info("orphan runs found", {{"jobs", *created}});
      wake();
    }
  }
}

void ReapService::status_loop() {
  std::unique_ptr<prefect::HttpPrefectClient> api;
  std::uint64_t api_generation = ~std::uint64_t{0};
  int failures = 0;
  std::mt19937_64 rng(std::random_device{}());
  while (!stopping_.load()) {
    auto cfg = config();
    auto ids = status_cache_.take_due(prefect::kMaxPageSize);
    if (ids.empty()) {
      pause(std::clamp(cfg->reaper.status_refresh / 20, Duration{20}, Duration{250}));
      continue;
    }
    const auto gen = config_generation_.load();
    if (!api || gen != api_generation) {
      api = std::make_unique<prefect::HttpPrefectClient>(cfg->prefect, metrics_, clock_);
      api_generation = gen;
    }
    auto runs = api->filter_flow_runs(prefect::flow_runs_by_id_body(ids));
    if (runs) {
      failures = 0;
      status_cache_.update(ids, *runs);
    } else {
      status_cache_.requeue(ids);
      ++failures;
      pause(transient_delay(failures, Duration{250}, Duration{30'000},
                            std::uniform_real_distribution<double>(0, 1)(rng)));
    }
  }
}

}  // namespace lifeline::reaper::reap
