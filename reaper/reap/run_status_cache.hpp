#pragma once
// The heartbeat API's view of runs in Prefect: answers at once from memory whether a pod
// should stop because its run is CANCELLING, CANCELLED or CRASHED (COMPLETED and FAILED are
// finishing on their own: continue). A run asked about is queued for a background refresh
// when its entry is older than the refresh interval; the refresher reads due runs in
// batches of up to 200 ids (POST /flow_runs/filter), so Prefect sees at most one read per
// run per interval however often the pod heartbeats. Entries not asked about for three
// intervals are dropped. Every heartbeat asks, so a lookup must touch one cache line: runs
// are keyed by their 128-bit id in an open-addressing table (boost::unordered_flat_map) of
// small entries stored inline, not by 36-character strings in separately allocated nodes.
// An id that is not a UUID is never cached and always continues.
// Thread-safety: thread-safe (one mutex); stop_reason never blocks on I/O.

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

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

  // A run's id as two 64-bit halves; nullopt unless `id` is a canonical UUID (either case).
  struct Key {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    bool operator==(const Key&) const = default;
  };
  static std::optional<Key> key_of(std::string_view id);
  static std::string id_of(Key key);  // lower-case canonical form

  std::optional<std::string> stop_reason(std::string_view run_id) override;
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
    SteadyTime last_asked{};
    std::optional<SteadyTime> fetched;
    const char* reason = nullptr;  // one of stop_sentence_for_state's sentences; null: continue
    bool queued = false;
  };
  struct KeyHash {
    using is_avalanching = void;  // ids are random (v4): their bits need no further mixing
    std::size_t operator()(const Key& k) const noexcept {
      // Random ids: mixing the halves is enough.
      return static_cast<std::size_t>(k.hi ^ (k.lo * 0x9E3779B97F4A7C15ull));
    }
  };
  void evict_idle(SteadyTime now);

  const Clock& clock_;
  mutable std::mutex mu_;
  Duration refresh_;
  boost::unordered_flat_map<Key, Entry, KeyHash> entries_;
  std::deque<Key> due_;
  SteadyTime last_eviction_{};
};

}  // namespace lifeline::reaper::reap
