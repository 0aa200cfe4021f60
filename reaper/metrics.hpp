#pragma once
// Every metric the reaper exports (names of the contract), created once and passed to
// the parts that update them. prometheus-cpp metrics are thread-safe.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace lifeline::reaper {

class ReaperMetrics {
 public:
  explicit ReaperMetrics(std::string version);

  prometheus::Registry& registry() { return *registry_; }
  const prometheus::Registry& registry() const { return *registry_; }

  // result: ok, conflict, stop, bad_request, unauthorized, unavailable
  prometheus::Counter& heartbeats(const std::string& result);
  // state: active, terminating, expired, reaping, reaped, released
  prometheus::Gauge& leases(const std::string& state);
  // reason: expired, evicted, exit_code, orphan, stuck_pending, incomplete; outcome: crashed,
  // skipped_terminal, skipped_paused, skipped_cancelling, skipped_rescheduled, rejected,
  // not_found, dry_run, failed
  prometheus::Counter& reaps(const std::string& reason, const std::string& outcome);
  prometheus::Counter& retries_scheduled() { return *retries_scheduled_; }
  prometheus::Histogram& detection_delay() { return *detection_delay_; }
  prometheus::Counter& prefect_requests(const std::string& endpoint, const std::string& code);
  prometheus::Histogram& prefect_request_duration(const std::string& endpoint);
  prometheus::Histogram& store_flush_duration() { return *store_flush_duration_; }
  prometheus::Histogram& store_batch_size() { return *store_batch_size_; }
  prometheus::Gauge& reap_backlog() { return *reap_backlog_; }
  prometheus::Gauge& ready() { return *ready_; }
  // table: audit, completion_checks, jobs, leases, run_attempts ([reaper] retention)
  prometheus::Counter& retention_deleted(const std::string& table);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* heartbeats_;
  prometheus::Family<prometheus::Gauge>* leases_;
  prometheus::Family<prometheus::Counter>* reaps_;
  prometheus::Counter* retries_scheduled_;
  prometheus::Histogram* detection_delay_;
  prometheus::Family<prometheus::Counter>* prefect_requests_;
  prometheus::Family<prometheus::Histogram>* prefect_request_duration_;
  prometheus::Histogram* store_flush_duration_;
  prometheus::Histogram* store_batch_size_;
  prometheus::Gauge* reap_backlog_;
  prometheus::Gauge* ready_;
  prometheus::Family<prometheus::Counter>* retention_deleted_;
};

}  // namespace lifeline::reaper
