#include "reaper/reap/prefect_slots.hpp"

#include <algorithm>

namespace lifeline::reaper::reap {

namespace {

// Holds one slot for the lifetime of a request.
class Slot {
 public:
  explicit Slot(PrefectSlots& slots) : slots_(slots) { slots_.acquire(); }
  ~Slot() { slots_.release(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  PrefectSlots& slots_;
};

}  // namespace

PrefectSlots::PrefectSlots(std::size_t slots) : capacity_(std::max<std::size_t>(1, slots)) {}

void PrefectSlots::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_use_ < capacity_; });
  ++in_use_;
}

void PrefectSlots::release() {
  {
    std::lock_guard lock(mu_);
    --in_use_;
  }
  cv_.notify_one();
}

std::size_t PrefectSlots::in_use() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

Result<prefect::FlowRun> SlotLimitedPrefect::read_flow_run(const std::string& id) {
  Slot s(slots_);
  return inner_.read_flow_run(id);
}

Result<std::vector<prefect::FlowRun>> SlotLimitedPrefect::filter_flow_runs(const nlohmann::json& body) {
  Slot s(slots_);
  return inner_.filter_flow_runs(body);
}

Result<std::vector<prefect::TaskRun>> SlotLimitedPrefect::filter_task_runs(const nlohmann::json& body) {
  Slot s(slots_);
  return inner_.filter_task_runs(body);
}

Result<prefect::OrchestrationResult> SlotLimitedPrefect::set_flow_run_state(const std::string& id,
                                                                            const prefect::StateProposal& p) {
  Slot s(slots_);
  return inner_.set_flow_run_state(id, p);
}

Result<prefect::OrchestrationResult> SlotLimitedPrefect::set_task_run_state(const std::string& id,
                                                                            const prefect::StateProposal& p) {
  Slot s(slots_);
  return inner_.set_task_run_state(id, p);
}

Result<prefect::LeaseProbe> SlotLimitedPrefect::probe_concurrency_lease(const std::string& lease_id) {
  Slot s(slots_);
  return inner_.probe_concurrency_lease(lease_id);
}

Result<prefect::Deployment> SlotLimitedPrefect::read_deployment(const std::string& id) {
  Slot s(slots_);
  return inner_.read_deployment(id);
}

Status SlotLimitedPrefect::emit_events(const nlohmann::json& events) {
  Slot s(slots_);
  return inner_.emit_events(events);
}

}  // namespace lifeline::reaper::reap
