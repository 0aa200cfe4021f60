#include "sidecar/fencing.hpp"

#include <algorithm>

namespace lifeline::sidecar::fencing {

Duration drift_margin(Duration ttl) { return std::max(Duration(1000), ttl / 20); }

Duration stop_budget(Duration ttl, Duration kill_grace) { return ttl - drift_margin(ttl) - kill_grace; }

SteadyTime stop_deadline(SteadyTime last_ack_sent, Duration granted_ttl, Duration kill_grace) {
  return last_ack_sent + stop_budget(granted_ttl, kill_grace);
}

Status check(Duration interval, Duration ttl, Duration kill_grace, Duration request_timeout) {
  Duration budget = stop_budget(ttl, kill_grace);
  Duration needed = 2 * interval + request_timeout;
  if (budget >= needed) return Ok{};
  return make_error(
      "fencing_impossible",
      "the fencing rule cannot be met: the workload must be dead before ttl - margin = " +
          format_duration(ttl) + " - " + format_duration(drift_margin(ttl)) +
          " after the last acknowledged heartbeat; with kill grace " + format_duration(kill_grace) +
          " it must get SIGTERM " + format_duration(budget < Duration(0) ? Duration(0) : budget) +
          " after it, but surviving one lost heartbeat needs 2 x interval + request timeout = 2 x " +
          format_duration(interval) + " + " + format_duration(request_timeout) + " = " +
          format_duration(needed) + "; raise --ttl, or lower --interval or --kill-grace" +
          " (or use --on-unreachable continue to turn fencing off)");
}

Result<Duration> fit_interval(Duration configured, Duration granted_ttl, Duration kill_grace,
                              Duration request_timeout) {
  if (check(configured, granted_ttl, kill_grace, request_timeout).ok()) return configured;
  Duration budget = stop_budget(granted_ttl, kill_grace);
  Duration fitted = (budget - request_timeout) / 2;
  if (fitted < Duration(10)) return check(configured, granted_ttl, kill_grace, request_timeout).error();
  return fitted;
}

}  // namespace lifeline::sidecar::fencing
