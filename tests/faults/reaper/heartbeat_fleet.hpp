#pragma once
// Simulated sidecars: many leases renewed over HTTP by a few threads, as lifeline-sidecar
// renews them (PUT /v1/leases/{run} with holder, node, ttl_seconds, seq), so that a fault
// scenario can put a thousand or more leases on the reapers without a thousand processes.
// Each thread holds one keep-alive connection to one reaper and renews the leases it owns
// on a drift-free schedule; when a reaper does not answer it moves to the next one.
//
// A simulated sidecar never fences: it keeps trying through errors. That models a sidecar
// whose own fencing deadline is longer than the outage, which is what the reaper must be
// safe against (the reaper cannot tell it from a real one).
//
// Thread-safety: every public method may be called from any thread. Each shard's leases
// are guarded by the shard's mutex; the sending thread never holds it during a request.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lifeline::faults {

class HeartbeatFleet {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    int shards = 4;                                  // threads, one connection each
    std::chrono::milliseconds interval{1000};        // renewal period of every lease
    std::chrono::milliseconds retry_unleased{100};   // a dying lease not yet acknowledged retries this often
    int read_timeout_seconds = 7;                    // above the reaper's commit_timeout (5 s)
    std::string node = "sim-node";
  };

  // What one lease saw. Times are the send times of heartbeats (as a sidecar's last_ack_sent).
  struct LeaseView {
    int acked = 0;        // 200 continue
    int stops = 0;        // 200 stop: lifeline reaped the run (or it expired and is being reaped)
    int conflicts = 0;    // 409: another holder
    int failures = 0;     // 503 or no answer
    bool renewing = false;
    Clock::time_point first_ack{}, last_ack{};
    std::chrono::milliseconds max_gap{0};  // longest time between two acknowledged heartbeats
    std::string last_stop_reason;
  };

  struct Totals {
    long ok = 0, stop = 0, conflict = 0, unavailable = 0, no_answer = 0, other = 0;
  };

  explicit HeartbeatFleet(Options options);
  ~HeartbeatFleet();
  HeartbeatFleet(const HeartbeatFleet&) = delete;
  HeartbeatFleet& operator=(const HeartbeatFleet&) = delete;

  // The reapers to send to (ports on 127.0.0.1); shard i starts with ports[i % n].
  void set_targets(std::vector<std::uint16_t> ports);
  // Heartbeats `run` as `holder`: until stop_renewing when `beats` is 0, else until `beats`
  // heartbeats were acknowledged (a lease that is then left to expire). The first heartbeat
  // goes out at once.
  void add(const std::string& run, const std::string& holder, int ttl_seconds, int beats);
  void stop_renewing(const std::string& run);
  std::optional<LeaseView> view(const std::string& run) const;
  Totals totals() const;
  // Leases renewed forever that have no acknowledged heartbeat sent at or after `since`.
  int renewing_not_acked_since(Clock::time_point since) const;
  int size() const;
  void shutdown();  // stops and joins the threads; idempotent

 private:
  struct Lease {
    std::string run, holder;
    int ttl_seconds = 0;
    int beats = 0;
    long seq = 0;
    LeaseView view;
  };
  struct Due {
    Clock::time_point at;
    std::size_t index;
    bool operator>(const Due& o) const { return at > o.at; }
  };
  struct Shard {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Lease> leases;
    std::vector<Due> heap;  // min-heap on `at`
    std::thread thread;
  };
  enum class Answer { ok, stop, conflict, unavailable, no_answer, other };

  void run_shard(int shard_index);
  std::uint16_t target_for(int shard_index, int rotation) const;

  Options options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  mutable std::mutex index_mu_;
  std::map<std::string, std::pair<int, std::size_t>> index_;  // run -> (shard, lease index)
  int next_shard_ = 0;
  mutable std::mutex targets_mu_;
  std::vector<std::uint16_t> targets_;
  std::atomic<int> targets_version_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<long> ok_{0}, stop_{0}, conflict_{0}, unavailable_{0}, no_answer_{0}, other_{0};
};

}  // namespace lifeline::faults
