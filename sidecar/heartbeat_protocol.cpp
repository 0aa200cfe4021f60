#include "sidecar/heartbeat_protocol.hpp"

#include <nlohmann/json.hpp>

namespace lifeline::sidecar {

using nlohmann::json;

const char* phase_name(Phase p) { return p == Phase::running ? "running" : "terminating"; }
const char* outcome_name(ReleaseOutcome o) { return o == ReleaseOutcome::exited ? "exited" : "evicted"; }

std::string heartbeat_body(const HeartbeatRequest& r) {
  // ttl_seconds is an integer in the contract; round up so we never ask for less.
  auto ttl_s = (r.ttl.count() + 999) / 1000;
  json j = {{"holder", r.holder},
            {"node", r.node},
            {"ttl_seconds", ttl_s},
            {"seq", r.seq},
            {"phase", phase_name(r.phase)}};
  return j.dump();
}

std::string release_body(const std::string& holder, ReleaseOutcome outcome, int exit_code) {
  json j = {{"holder", holder}, {"outcome", outcome_name(outcome)}, {"exit_code", exit_code}};
  return j.dump();
}

std::string lease_path(const std::string& base_path, const std::string& run_id) {
  return base_path + "/v1/leases/" + run_id;
}

std::string release_path(const std::string& base_path, const std::string& run_id) {
  return lease_path(base_path, run_id) + "/release";
}

HeartbeatAnswer decode_heartbeat_answer(int status, const std::string& body) {
  HeartbeatAnswer a;
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto text = [&](const char* key) -> std::string {
    if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
    return {};
  };
  if (status == 409) {
    // Another holder has the lease: this pod must not run the flow.
    a.kind = HeartbeatAnswer::Kind::stop;
    a.reason = text("detail");
    if (a.reason.empty()) a.reason = "lease held by another holder (409)";
    return a;
  }
  if (status != 200) {
    a.reason = "HTTP " + std::to_string(status);
    if (auto e = text("error"); !e.empty()) a.reason += " " + e;
    if (auto d = text("detail"); !d.empty()) a.reason += ": " + d;
    return a;
  }
  if (!j.is_object()) {
    a.reason = "answer is not a JSON object";
    return a;
  }
  std::string directive = text("directive");
  if (directive == "stop") {
    a.kind = HeartbeatAnswer::Kind::stop;
    a.reason = text("reason");
    if (a.reason.empty()) a.reason = "the reaper said stop";
    return a;
  }
  if (directive != "continue") {
    a.reason = "unknown directive \"" + directive + "\"";
    return a;
  }
  auto ttl = j.find("ttl_seconds");
  // A granted TTL beyond a week is no lease a reaper grants (its max_ttl is minutes): refuse
  // it rather than overflow the fencing arithmetic (found by tests/fuzz).
  constexpr double kMaxGrantedTtlSeconds = 7 * 24 * 3600.0;
  if (ttl == j.end() || !ttl->is_number() || !(ttl->get<double>() > 0) ||
      !(ttl->get<double>() <= kMaxGrantedTtlSeconds)) {
    a.reason = "answer has no ttl_seconds in (0, 604800]";
    return a;
  }
  a.kind = HeartbeatAnswer::Kind::renewed;
  a.granted_ttl = Duration(static_cast<std::int64_t>(ttl->get<double>() * 1000.0));
  if (auto e = j.find("epoch"); e != j.end() && e->is_number_integer()) a.epoch = e->get<std::int64_t>();
  return a;
}

}  // namespace lifeline::sidecar
