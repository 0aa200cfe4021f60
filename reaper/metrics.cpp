#include "reaper/metrics.hpp"

namespace lifeline::reaper {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

ReaperMetrics::ReaperMetrics(std::string version)
    : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  heartbeats_ = &BuildCounter().Name("lifeline_reaper_heartbeats_total")
                     .Help("Heartbeat (lease renewal) requests by result").Register(r);
  leases_ = &BuildGauge().Name("lifeline_reaper_leases")
                 .Help("Leases in the store by state (refreshed every reap interval)").Register(r);
  reaps_ = &BuildCounter().Name("lifeline_reaper_reaps_total")
                .Help("Dead runs handled, by why they were dead and what was done").Register(r);
  retries_scheduled_ = &BuildCounter().Name("lifeline_reaper_retries_scheduled_total")
                            .Help("Crashed runs rescheduled as AwaitingRetry").Register(r).Add({});
  detection_delay_ = &BuildHistogram().Name("lifeline_reaper_detection_delay_seconds")
                          .Help("From lease expiry or release to the run's Crashed state being set")
                          .Register(r)
                          .Add({}, Histogram::BucketBoundaries{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 10, 15, 30, 60, 300});
  prefect_requests_ = &BuildCounter().Name("lifeline_reaper_prefect_requests_total")
                           .Help("Requests to the Prefect API by endpoint and HTTP status (0 = no answer)")
                           .Register(r);
  prefect_request_duration_ = &BuildHistogram().Name("lifeline_reaper_prefect_request_duration_seconds")
                                   .Help("Prefect API request latency").Register(r);
  store_flush_duration_ = &BuildHistogram().Name("lifeline_reaper_store_flush_duration_seconds")
                               .Help("Group-commit round trip: one multi-row upsert and its commit")
                               .Register(r)
                               .Add({}, Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                                   0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  store_batch_size_ = &BuildHistogram().Name("lifeline_reaper_store_batch_size")
                           .Help("Heartbeats committed per group-commit round trip").Register(r)
                           .Add({}, Histogram::BucketBoundaries{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000});
  reap_backlog_ = &BuildGauge().Name("lifeline_reaper_reap_backlog")
                       .Help("Dead runs detected but not yet fully handled").Register(r).Add({});
  ready_ = &BuildGauge().Name("lifeline_reaper_ready")
                .Help("1 while the reaper can reach its database").Register(r).Add({});
  retention_deleted_ = &BuildCounter().Name("lifeline_reaper_retention_deleted_total")
                           .Help("Rows older than [reaper] retention deleted, per table").Register(r);
  BuildGauge().Name("lifeline_reaper_build_info").Help("Build information").Register(r)
      .Add({{"version", std::move(version)}}).Set(1);

  // Every known label combination exists from the start at 0: a series born at 1 hides its
  // first increment from rate() and increase(), so the first reap or the first rejected
  // heartbeat would never show on a dashboard or fire an alert.
  for (const char* result : {"ok", "stop", "conflict", "unavailable", "bad_request", "unauthorized"})
    heartbeats(result);
  for (const char* reason : {"expired", "evicted", "exit_code", "orphan", "stuck_pending", "incomplete"})
    for (const char* outcome : {"crashed", "skipped_terminal", "skipped_paused", "skipped_cancelling",
                                "skipped_rescheduled", "rejected", "not_found", "dry_run", "failed"})
      reaps(reason, outcome);
  for (const char* endpoint : {"read_flow_run", "filter_flow_runs", "filter_task_runs", "set_flow_run_state",
                               "set_task_run_state", "renew_concurrency_lease", "read_deployment", "emit_events"}) {
    prefect_request_duration(endpoint);
    // The answers that matter for alerts; other codes appear when first seen.
    for (const char* code : {"0", "200", "201", "204", "404", "409", "410", "422", "429", "500", "502", "503", "504"})
      prefect_requests(endpoint, code);
  }
  for (const char* table : {"audit", "completion_checks", "jobs", "leases", "run_attempts"}) retention_deleted(table);
}

prometheus::Counter& ReaperMetrics::heartbeats(const std::string& result) {
  return heartbeats_->Add({{"result", result}});
}
prometheus::Counter& ReaperMetrics::retention_deleted(const std::string& table) {
  return retention_deleted_->Add({{"table", table}});
}
prometheus::Gauge& ReaperMetrics::leases(const std::string& state) {
  return leases_->Add({{"state", state}});
}
prometheus::Counter& ReaperMetrics::reaps(const std::string& reason, const std::string& outcome) {
  return reaps_->Add({{"reason", reason}, {"outcome", outcome}});
}
prometheus::Counter& ReaperMetrics::prefect_requests(const std::string& endpoint, const std::string& code) {
  return prefect_requests_->Add({{"endpoint", endpoint}, {"code", code}});
}
prometheus::Histogram& ReaperMetrics::prefect_request_duration(const std::string& endpoint) {
  return prefect_request_duration_->Add(
      {{"endpoint", endpoint}},
      Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10});
}

}  // namespace lifeline::reaper
