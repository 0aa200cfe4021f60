#include "reaper/reap_wiring.hpp"

#include "reaper/reap/reap_service.hpp"

namespace lifeline::reaper {

ReapFactory make_reap_factory() {
  return [](const ReapContext& c) {
    auto svc = std::make_unique<reap::ReapService>(c.config, c.config.database.url, c.metrics, c.log, c.clock);
    reap::ReapService* raw = svc.get();
    ReapWiring w;
    w.status_source = &raw->run_status();
    // The release of an evicted or failed workload is acted on at once, not at the next tick.
    w.wake_on_release = [raw] { raw->wake(); };
    w.service = std::move(svc);
    return w;
  };
}

}  // namespace lifeline::reaper
