#pragma once
// The heartbeat API's view of runs in Prefect: answers at once from memory whether a pod
// should stop because its run is CANCELLING, CANCELLED or CRASHED (COMPLETED and FAILED are
// finishing on their own: continue). A run asked about is queued for a background refresh
// when its entry is older than the refresh interval; the refresher reads due runs in
// batches of up to 200 ids (POST /flow_runs/filter), so Prefect sees at most one read per
// run per interval however often the pod heartbeats. Entries not asked about for three
// intervals are dropped.
// Thread-safety: thread-safe (one mutex); stop_reason never blocks on I/O.

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "reaper/api/run_status_source.hpp"
#include "reaper/prefect/prefect_types.hpp"
#include "reaper/reap/reap_worker.hpp"
#include "shared/clock.hpp"
#include "shared/duration.hpp"

namespace lifeline::reaper::reap {

// Why a pod should stop given its run's Prefect state; nullopt to continue.
std::optional<std::string> stop_reason_for_state(const std::string& state_type);

class RunStatusCache final : public RunStatusSource, public RunChangeListener {
 public:
  RunStatusCache(const Clock& clock, Duration refresh);

  std::optional<std::string> stop_reason(const std::string& run_id) override;
  void run_changed(const std::string& run_id) override;

  // For the refresher: up to `n` runs due for a read (each handed out once until updated).
  std::vector<std::string> take_due(std::size_t n);
  // Results of a batch read of `asked`; runs missing from `found` are unknown to Prefect.
  void update(const std::vector<std::string>& asked, const std::vector<prefect::FlowRun>& found);
  // A failed batch: the runs become due again.
  void requeue(const std::vector<std::string>& asked);

  void set_refresh(Duration refresh);
  std::size_t size() const;

 private:
  struct Entry {
    std::optional<std::string> reason;
    std::optional<SteadyTime> fetched;
    SteadyTime last_asked{};
    bool queued = false;
  };
  void evict_idle(SteadyTime now);

  const Clock& clock_;
  mutable std::mutex mu_;
  Duration refresh_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> due_;
  SteadyTime last_eviction_{};
};

}  // namespace lifeline::reaper::reap
