#include "tests/faults/reaper/sidecar_pods.hpp"

#include <chrono>

namespace lifeline::faults {

std::optional<Pods> start_pods(ScenarioResult& r, RunBook& book, const std::string& reaper_url, int count,
                               const std::string& holder_prefix, int ttl_seconds) {
  using namespace std::chrono_literals;
  Pods pods;
  for (int i = 0; i < count; ++i) {
    testing::SidecarPod::Settings p;
    p.run_id = book.create_run();
    book.track_pod_run(p.run_id);
    p.reaper_url = reaper_url;
    p.holder = holder_prefix + "-" + std::to_string(i);
    p.interval = "1s";
    p.ttl = std::to_string(ttl_seconds) + "s";
    p.kill_grace = "1s";
    pods.push_back(std::make_unique<testing::SidecarPod>(p));
    if (!r.check(pods.back()->wait_ready(15s), "pod " + std::to_string(i) + " holds its lease", "holder=" + p.holder))
      return std::nullopt;
  }
  return pods;
}

}  // namespace lifeline::faults
