#pragma once
// What the reaper program starts next to the heartbeat API: the reap pipeline (built
// in reaper/reap/). App starts it after the schema is migrated, hands it every
// configuration reloaded on SIGHUP, and stops it while draining on SIGTERM.
// Thread-safety: App calls start(), reload() and stop() from its main (io) thread;
// implementations run their own threads and must not block in reload().

#include "reaper/config.hpp"

namespace lifeline::reaper {

class BackgroundService {
 public:
  virtual ~BackgroundService() = default;
  virtual void start() = 0;
  // Returns once the service's threads have finished (may block).
  virtual void stop() = 0;
  // A validated new configuration; apply what can change live.
  virtual void reload(const Config& config) = 0;
};

}  // namespace lifeline::reaper
