#pragma once
// The one time source. Steady time measures intervals and deadlines; wall time is
// only for what is stored or shown. Production code gets a SystemClock, tests a
// FakeClock that they advance instead of sleeping.
// Thread-safety: both implementations may be called from any thread.

#include <atomic>
#include <chrono>

namespace lifeline {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime steady_now() const = 0;
  virtual WallTime wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to. Steady and wall time advance together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime wall_start = WallTime{} + std::chrono::hours(24 * 365 * 56))
      : wall_offset_(wall_start.time_since_epoch().count()) {}

  SteadyTime steady_now() const override {
    return SteadyTime{std::chrono::steady_clock::duration{ticks_.load()}};
  }
  WallTime wall_now() const override {
    return WallTime{std::chrono::system_clock::duration{wall_offset_}} +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               std::chrono::steady_clock::duration{ticks_.load()});
  }
  template <typename Rep, typename Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    ticks_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count();
  }

 private:
  std::atomic<std::chrono::steady_clock::rep> ticks_{1'000'000'000};
  std::chrono::system_clock::rep wall_offset_;
};

}  // namespace lifeline
