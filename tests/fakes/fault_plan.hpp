#pragma once
// Faults injected into the fake API for tests: an HTTP status (503 by default) for the
// next N calls or for a time window, a delay, or a connection closed without an answer;
// each before the request is handled (nothing changes) or after (the change is made but
// the client does not get a clean answer). Plus global latency and a random failure rate.
// Thread-safety: not thread-safe; FakePrefect serialises access.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/fakes/json.hpp"

namespace lifeline::fake_prefect {

enum class FaultKind { Status, Delay, Drop };
enum class FaultPhase { BeforeHandling, AfterHandling };

struct Fault {
  std::string method;  // "" or "*": any method
  std::string path;    // glob over the request path ("/api/flow_runs/*/set_state"); "" any
  FaultKind kind = FaultKind::Status;
  FaultPhase phase = FaultPhase::BeforeHandling;
  int status = 503;
  std::optional<int> times;                              // calls affected, then it retires
  std::optional<std::chrono::milliseconds> for_duration;  // active this long after injection
  std::chrono::milliseconds delay{0};                    // FaultKind::Delay
};

// What to do to one call.
struct FaultAction {
  // The global latency: the answer leaves no sooner than this after the call arrived;
  // the handling (and any injected delay) happens inside it.
  std::chrono::milliseconds answer_after{0};
  std::chrono::milliseconds delay_before{0};
  std::chrono::milliseconds delay_after{0};
  std::optional<int> status_before, status_after;
  bool drop_before = false;
  bool drop_after = false;
};

class FaultPlan {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  explicit FaultPlan(std::uint64_t seed) : rng_(seed) {}

  int add(Fault f, SteadyTime now);
  void clear() { faults_.clear(); }
  Json describe(SteadyTime now) const;

  void set_latency(std::chrono::milliseconds l) { latency_ = l; }
  std::chrono::milliseconds latency() const { return latency_; }
  void set_fail_rate(double rate) { fail_rate_ = rate; }

  // The faults that apply to this call; spends their counts.
  FaultAction next(const std::string& method, const std::string& path, SteadyTime now);

 private:
  struct Active {
    int id = 0;
    Fault fault;
    std::optional<SteadyTime> until;
    int used = 0;
  };
  std::vector<Active> faults_;
  int next_id_ = 1;
  std::chrono::milliseconds latency_{0};
  double fail_rate_ = 0.0;
  std::mt19937_64 rng_;
};

// '*' matches within one path segment, '**' across segments.
bool glob_match(std::string_view pattern, std::string_view text);

// Parses a fault from the control API's JSON; nullopt and `error` when invalid.
std::optional<Fault> fault_from_json(const Json& j, std::string& error);

}  // namespace lifeline::fake_prefect
