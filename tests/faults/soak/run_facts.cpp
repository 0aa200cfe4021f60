#include "tests/faults/soak/run_facts.hpp"

#include <vector>

#include "shared/time_format.hpp"
#include "tests/e2e/processes.hpp"

namespace lifeline::faults {

using fake_prefect::Json;

RunFacts run_facts(const fake_prefect::FakePrefect& fake, const std::string& run_id) {
  RunFacts f;
  // One read of the history, whose last state is the run's current one: the counts and the
  // current state always agree. (Reading the current state separately could see a state
  // set after the history was read: AwaitingRetry now, yet none counted.)
  const std::vector<Json> history = fake.history(run_id);
  for (const auto& s : history) {
    const auto type = s.value("type", "");
    if (type == "CRASHED") {
      ++f.crashed;
      if (!f.first_crash && s.contains("timestamp") && s["timestamp"].is_string())
        if (auto t = parse_rfc3339(s["timestamp"].get<std::string>())) f.first_crash = *t;
    } else if (type == "SCHEDULED" && s.value("name", "") == "AwaitingRetry") {
      ++f.awaiting_retry;
    }
  }
  if (!history.empty()) {
    f.type = history.back().value("type", "");
    f.name = history.back().value("name", "");
  }
  return f;
}

std::optional<LeaseFacts> lease_of_holder(std::uint16_t reaper_port, const std::string& holder) {
  std::string body;
  if (testing::http_get_status(reaper_port, "/v1/leases?holder=" + holder + "&limit=1", &body) != 200)
    return std::nullopt;
  auto rows = Json::parse(body, nullptr, false);
  if (!rows.is_array() || rows.empty() || !rows[0].is_object()) return std::nullopt;
  const auto& r = rows[0];
  LeaseFacts l;
  l.state = r.value("state", "");
  if (r.contains("release_outcome") && r["release_outcome"].is_string()) l.release_outcome = r["release_outcome"];
  if (r.contains("exit_code") && r["exit_code"].is_number_integer()) l.exit_code = r["exit_code"].get<int>();
  if (r.contains("epoch") && r["epoch"].is_number_integer()) l.epoch = r["epoch"].get<std::int64_t>();
  if (r.contains("expires_at") && r["expires_at"].is_string())
    if (auto t = parse_rfc3339(r["expires_at"].get<std::string>())) l.expires_at = *t;
  return l;
}

double seconds_between(WallTime from, WallTime to) { return std::chrono::duration<double>(to - from).count(); }

}  // namespace lifeline::faults
