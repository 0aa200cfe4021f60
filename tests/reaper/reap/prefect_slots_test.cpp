// PrefectSlots / SlotLimitedPrefect: more callers than slots never have more than
// max_in_flight requests in flight, and every caller gets through.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "reaper/reap/prefect_slots.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper::reap {
namespace {

using namespace std::chrono_literals;
using lifeline::testing::wait_until;

// A Prefect whose read_flow_run blocks until the test opens the gate, counting the requests
// inside it (the other calls are not used here).
class GatedPrefect final : public prefect::PrefectApi {
 public:
  Result<prefect::FlowRun> read_flow_run(const std::string& id) override {
    const int now_inside = inside.fetch_add(1) + 1;
    int seen = most_inside.load();
    while (now_inside > seen && !most_inside.compare_exchange_weak(seen, now_inside)) {
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return open; });
    }
    inside.fetch_sub(1);
    prefect::FlowRun r;
    r.id = id;
    return r;
  }
  Result<std::vector<prefect::FlowRun>> filter_flow_runs(const nlohmann::json&) override { return unused(); }
  Result<std::vector<prefect::TaskRun>> filter_task_runs(const nlohmann::json&) override { return unused(); }
  Result<prefect::OrchestrationResult> set_flow_run_state(const std::string&, const prefect::StateProposal&) override {
    return unused();
  }
  Result<prefect::OrchestrationResult> set_task_run_state(const std::string&, const prefect::StateProposal&) override {
    return unused();
  }
  Result<prefect::LeaseProbe> probe_concurrency_lease(const std::string&) override { return unused(); }
  Result<prefect::Deployment> read_deployment(const std::string&) override { return unused(); }
  Status emit_events(const nlohmann::json&) override { return unused(); }

  void open_gate() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }

  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};

 private:
  static Error unused() { return make_error("test", "not used by this test"); }
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
};

TEST(PrefectSlots, BoundsRequestsInFlightAcrossMoreCallersThanSlots) {
  PrefectSlots slots(3);
  GatedPrefect inner;
  std::atomic<int> done{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      SlotLimitedPrefect limited(inner, slots);  // one per worker, sharing the slots
      auto r = limited.read_flow_run("run-" + std::to_string(i));
      if (r) done.fetch_add(1);
    });
  }
  // Three callers get in and hold their slots; the five others wait for one.
  ASSERT_TRUE(wait_until([&] { return inner.inside.load() == 3; }, 5s));
  EXPECT_EQ(slots.in_use(), 3u);
  inner.open_gate();
  for (auto& t : callers) t.join();
  EXPECT_EQ(done.load(), 8);
  EXPECT_EQ(inner.most_inside.load(), 3);
  EXPECT_EQ(slots.in_use(), 0u);
}

TEST(PrefectSlots, ZeroSlotsMeansOne) {
  PrefectSlots slots(0);  // the configuration forbids 0; never deadlock on it anyway
  EXPECT_EQ(slots.capacity(), 1u);
  slots.acquire();
  EXPECT_EQ(slots.in_use(), 1u);
  slots.release();
  EXPECT_EQ(slots.in_use(), 0u);
}

}  // namespace
}  // namespace lifeline::reaper::reap
