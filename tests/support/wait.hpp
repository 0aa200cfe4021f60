#pragma once
// Waiting in tests: poll a condition until it holds or a deadline passes. Never a
// fixed sleep: a test waits exactly as long as the system under test needs.

#include <chrono>
#include <functional>
#include <thread>

namespace lifeline::testing {

// Polls `pred` every `poll` until it returns true (-> true) or `timeout` passes (-> false).
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);  // poll interval of a deadline-bounded wait (ok)
  }
}

}  // namespace lifeline::testing
