#pragma once
// The Prefect API calls the fake received, for tests to assert on (what was sent, in what
// order, what it was answered). Bounded; the oldest calls are dropped first.
// Thread-safety: not thread-safe; FakePrefect serialises access.

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "tests/fakes/json.hpp"

namespace lifeline::fake_prefect {

struct RecordedCall {
  std::string method;
  std::string path;   // with the query string, as received ("/api/flow_run_states/?flow_run_id=...")
  std::string body;   // raw request body
  int status = 0;     // 0: the connection was closed without an answer
  std::chrono::system_clock::time_point time;  // when it arrived
  std::chrono::microseconds duration{0};       // until it was answered
};

Json to_json(const RecordedCall& c);

class CallLog {
 public:
  explicit CallLog(std::size_t capacity = 100000) : capacity_(capacity) {}
  void add(RecordedCall c);
  std::vector<RecordedCall> all() const { return {calls_.begin(), calls_.end()}; }
  void clear() { calls_.clear(); }

 private:
  std::size_t capacity_;
  std::deque<RecordedCall> calls_;
};

}  // namespace lifeline::fake_prefect
