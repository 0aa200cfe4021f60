#pragma once
// ReapService: everything the reaper does about dead runs, behind start/stop/reload/wake.
//
// Threading model (all threads started by start(), joined by stop()):
// - one scheduler thread, owning two database connections (one for its statements, one that
//   LISTENs on `lifeline_wakeup`): each interval (or at once when woken by wake() or a
//   NOTIFY) it applies the outage rule if needed, detects dead leases (one transaction),
//   refreshes the gauges, and claims runnable jobs (FOR UPDATE SKIP LOCKED) into a bounded
//   in-memory queue;
// - 2 x prefect.max_in_flight worker threads, each owning one keep-alive Prefect client and
//   one database connection (opened for a job, closed after a minute without one), each
//   carrying one job at a time through the pipeline
//   (ReapWorker). A worker holds one of max_in_flight shared slots (PrefectSlots) only while
//   a request is in flight, so at most max_in_flight reap requests are in flight towards
//   Prefect, and a worker's database time between two requests does not idle a slot;
// - one sweeper thread (its own client and connection): completion checks of exit-0
//   releases and the orphan sweep;
// - one status thread (its own client): batch refreshes of the run-status cache that the
//   heartbeat API reads without blocking (run_status()).
// Work crosses threads only through the job queue (mutex + condition variable), an eventfd
// that wakes the scheduler, and the run-status cache (mutex). The configuration is an
// immutable snapshot swapped under a mutex by reload(); a job keeps the snapshot it began with.
// Thread-safety: start/stop from one owner thread; reload, wake and run_status from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "reaper/api/run_status_source.hpp"
#include "reaper/background_service.hpp"
#include "reaper/config.hpp"
#include "reaper/metrics.hpp"
#include "reaper/reap/deployment_names.hpp"
#include "reaper/reap/prefect_slots.hpp"
#include "reaper/reap/reap_job.hpp"
#include "reaper/reap/run_status_cache.hpp"
#include "shared/clock.hpp"
#include "shared/log.hpp"

namespace lifeline::reaper::reap {

class ReapStore;

class ReapService final : public BackgroundService {
 public:
  ReapService(const Config& config, std::string database_url, ReaperMetrics& metrics, const Logger& log,
              const Clock& clock);
  ~ReapService() override;
  ReapService(const ReapService&) = delete;
  ReapService& operator=(const ReapService&) = delete;

  // Starts the threads. Throws std::invalid_argument for an unusable prefect.api_url.
  void start() override;
  // Drains: no new claims; each worker finishes its current step, puts its job back
  // (claim released, resumable by any replica) and exits; then every thread is joined.
  void stop() override;
  // Takes a new configuration for the next interval / next job. max_in_flight and the
  // database URL need a restart (the thread count and connections are fixed at start).
  void reload(const Config& config) override;
  // Look for dead leases now (the release path calls it, or NOTIFY lifeline_wakeup).
  void wake();

  // How many pages of runs (prefect::kMaxPageSize each) one orphan sweep reads per state
  // before the next sweep goes on from there (see SweepCursor); default 50. Before start().
  void set_orphan_pages_per_pass(int pages) { orphan_pages_per_pass_ = pages < 1 ? 1 : pages; }
  // How long a reap worker keeps its database connection without a job; default 60 s.
  // Before start().
  void set_worker_idle_close(std::chrono::milliseconds d) { worker_idle_close_ = d; }

  RunStatusSource& run_status() { return status_cache_; }
  const std::string& replica_id() const { return replica_; }

 private:
  std::shared_ptr<const Config> config() const;
  void scheduler_loop();
  void purge(ReapStore& store, Duration retention);  // one retention pass ([reaper] retention)
  void worker_loop(std::size_t index);
  void sweeper_loop();
  void status_loop();
  void signal_scheduler();
  // Waits up to `d` or until stop() (for the sweeper and status threads).
  void pause(Duration d);
  bool prefect_paused() const;
  void note_prefect(bool transient_failure);

  std::string database_url_;
  ReaperMetrics& metrics_;
  Logger log_;
  const Clock& clock_;
  std::string replica_;

  mutable std::mutex config_mu_;
  std::shared_ptr<const Config> config_;
  std::atomic<std::uint64_t> config_generation_{0};

  int orphan_pages_per_pass_ = 50;
  std::chrono::milliseconds worker_idle_close_{60'000};
  RunStatusCache status_cache_;
  DeploymentNames deployment_names_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> detect_requested_{true};
  int wake_fd_ = -1;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<ReapJob> queue_;
  std::size_t outstanding_ = 0;  // queued + being worked on (guarded by queue_mu_)

  std::mutex pause_mu_;
  std::condition_variable pause_cv_;

  std::atomic<int> prefect_failures_{0};
  std::atomic<std::int64_t> prefect_pause_until_{0};  // steady ticks

  std::unique_ptr<PrefectSlots> prefect_slots_;  // created by start(): max_in_flight is fixed then
  std::size_t workers_ = 0;

  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace lifeline::reaper::reap
