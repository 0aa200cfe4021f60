#include "reaper/lease_rules.hpp"

#include <algorithm>

namespace lifeline::reaper {

std::string_view to_string(LeaseState s) {
  switch (s) {
    case LeaseState::active: return "active";
    case LeaseState::released: return "released";
    case LeaseState::expired: return "expired";
    case LeaseState::reaped: return "reaped";
  }
  return "active";
}

std::string_view to_string(LeasePhase p) { return p == LeasePhase::running ? "running" : "terminating"; }
std::string_view to_string(ReleaseOutcome o) { return o == ReleaseOutcome::exited ? "exited" : "evicted"; }

std::optional<LeaseState> parse_lease_state(std::string_view s) {
  for (auto v : {LeaseState::active, LeaseState::released, LeaseState::expired, LeaseState::reaped})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::optional<LeasePhase> parse_lease_phase(std::string_view s) {
  if (s == "running") return LeasePhase::running;
  if (s == "terminating") return LeasePhase::terminating;
  return std::nullopt;
}

std::optional<ReleaseOutcome> parse_release_outcome(std::string_view s) {
  if (s == "exited") return ReleaseOutcome::exited;
  if (s == "evicted") return ReleaseOutcome::evicted;
  return std::nullopt;
}

Duration grant_ttl(Duration requested, const LeasesConfig& leases) {
  return std::clamp(requested, leases.min_ttl, leases.max_ttl);
}

RenewDecision decide_renewal(const std::optional<LeaseSnapshot>& current, std::string_view holder) {
  if (!current) return {RenewVerdict::create, 1, {}};
  const LeaseSnapshot& l = *current;
  if (l.holder == holder) {
    switch (l.state) {
      case LeaseState::active: return {RenewVerdict::renew, l.epoch, {}};
      case LeaseState::expired:
        return {RenewVerdict::stop, l.epoch, "lease expired: lifeline is reaping this run"};
      case LeaseState::reaped: return {RenewVerdict::stop, l.epoch, "run was reaped by lifeline"};
      case LeaseState::released: return {RenewVerdict::stop, l.epoch, "lease was released by this holder"};
    }
  }
  bool free = l.state == LeaseState::released || l.state == LeaseState::reaped ||
              (l.state == LeaseState::active && l.past_expiry);
  if (free) return {RenewVerdict::take_over, l.epoch + 1, {}};
  std::string why = l.state == LeaseState::expired ? "lease expired and is being reaped; held by "
                                                   : "lease is held by ";
  return {RenewVerdict::conflict, l.epoch, why + l.holder + " (epoch " + std::to_string(l.epoch) + ")"};
}

ReleaseDecision decide_release(const std::optional<LeaseSnapshot>& current, std::string_view holder) {
  if (!current) return {ReleaseVerdict::not_found, "no lease for this run"};
  const LeaseSnapshot& l = *current;
  if (l.holder != holder)
    return {ReleaseVerdict::not_holder, "lease is held by " + l.holder + " (epoch " + std::to_string(l.epoch) + ")"};
  switch (l.state) {
    case LeaseState::active: return {ReleaseVerdict::release, {}};
    case LeaseState::released: return {ReleaseVerdict::already_released, "lease was already released"};
    case LeaseState::expired: return {ReleaseVerdict::closed, "lease expired: lifeline is reaping this run"};
    case LeaseState::reaped: return {ReleaseVerdict::closed, "run was reaped by lifeline"};
  }
  return {ReleaseVerdict::closed, {}};
}

}  // namespace lifeline::reaper
