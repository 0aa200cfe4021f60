#pragma once
// Plugs the reap pipeline (reap::ReapService) into the reaper program's App: the service
// App starts, reloads and stops, the run-status source the heartbeat API asks, and the
// wake-up the release path rings so evictions are handled at once.

#include "reaper/app.hpp"

namespace lifeline::reaper {

ReapFactory make_reap_factory();

}  // namespace lifeline::reaper
