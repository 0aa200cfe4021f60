#pragma once
// PrefectSlots: the bound on reap requests in flight to Prefect (prefect.max_in_flight),
// shared by the reap workers; SlotLimitedPrefect: a PrefectApi that holds one slot for the
// duration of each request it forwards.
//
// Why: a reap worker spends a large part of each job in PostgreSQL between two Prefect
// calls (about 38 % when measured). With one worker per slot, that time is an idle slot.
// ReapService runs more workers than slots, and a worker takes a slot only around a request,
// so up to max_in_flight requests stay in flight while other workers record their steps.
// Thread-safety: PrefectSlots is thread-safe. SlotLimitedPrefect is not (one per worker,
// like the client it wraps).

#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "reaper/prefect/prefect_api.hpp"

namespace lifeline::reaper::reap {

class PrefectSlots {
 public:
  explicit PrefectSlots(std::size_t slots);
  PrefectSlots(const PrefectSlots&) = delete;
  PrefectSlots& operator=(const PrefectSlots&) = delete;

  // Blocks until a slot is free. Never fails: a slot is held for one request, which the
  // client bounds by prefect.timeout.
  void acquire();
  void release();
  std::size_t capacity() const { return capacity_; }
  std::size_t in_use() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t in_use_ = 0;
};

class SlotLimitedPrefect final : public prefect::PrefectApi {
 public:
  SlotLimitedPrefect(prefect::PrefectApi& inner, PrefectSlots& slots) : inner_(inner), slots_(slots) {}

  Result<prefect::FlowRun> read_flow_run(const std::string& id) override;
  Result<std::vector<prefect::FlowRun>> filter_flow_runs(const nlohmann::json& body) override;
  Result<std::vector<prefect::TaskRun>> filter_task_runs(const nlohmann::json& body) override;
  Result<prefect::OrchestrationResult> set_flow_run_state(const std::string& id,
                                                          const prefect::StateProposal& p) override;
  Result<prefect::OrchestrationResult> set_task_run_state(const std::string& id,
                                                          const prefect::StateProposal& p) override;
  Result<prefect::LeaseProbe> probe_concurrency_lease(const std::string& lease_id) override;
  Result<prefect::Deployment> read_deployment(const std::string& id) override;
  Status emit_events(const nlohmann::json& events) override;

 private:
  prefect::PrefectApi& inner_;
  PrefectSlots& slots_;
};

}  // namespace lifeline::reaper::reap
