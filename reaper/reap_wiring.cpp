#include "reaper/reap_wiring.hpp"

#include "reaper/reap/reap_service.hpp"

namespace lifeline::reaper {
namespace {

// ReapService as App's BackgroundService.
class ReapBackground final : public BackgroundService {
 public:
  explicit ReapBackground(const ReapContext& c)
      : service_(c.config, c.config.database.url, c.metrics, c.log, c.clock) {}
  void start() override { service_.start(); }
  void stop() override { service_.stop(); }
  void reload(const Config& config) override { service_.reload(config); }
  reap::ReapService& service() { return service_; }

 private:
  reap::ReapService service_;
};

}  // namespace

ReapFactory make_reap_factory() {
  return [](const ReapContext& c) {
    auto bg = std::make_unique<ReapBackground>(c);
    reap::ReapService* svc = &bg->service();
    ReapWiring w;
    w.status_source = &svc->run_status();
    w.wake_on_release = [svc] { svc->wake(); };
    w.service = std::move(bg);
    return w;
  };
}

}  // namespace lifeline::reaper
