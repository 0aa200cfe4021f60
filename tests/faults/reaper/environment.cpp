#include "tests/faults/reaper/environment.hpp"

#include <stdexcept>

namespace lifeline::faults {

ScenarioDatabase::ScenarioDatabase(testing::TempPostgres& pg, std::string uri) : pg_(pg), uri_(std::move(uri)) {
  name_ = uri_.substr(uri_.rfind('/') + 1);
}

std::string ScenarioDatabase::uri_via_port(std::uint16_t port) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/" + name_;
}

std::string ScenarioDatabase::value(const std::string& sql) const { return pg_.query_value(sql, name_); }

long long ScenarioDatabase::count(const std::string& sql) const {
  const std::string v = value(sql);
  return v.empty() ? 0 : std::stoll(v);
}

long long ScenarioDatabase::unfinished_jobs() const {
  return count("SELECT count(*) FROM lifeline_reaps WHERE step IN ('detected','crashing','freeing','rescheduling')");
}

std::string ScenarioDatabase::pipeline_snapshot() const {
  std::string steps = value(
      "SELECT coalesce(string_agg(step || '=' || n, ' ' ORDER BY step), '') FROM "
      "(SELECT step, count(*) AS n FROM lifeline_reaps "
      " WHERE step IN ('detected','crashing','freeing','rescheduling') GROUP BY step) s");
  long long undetected =
      count("SELECT count(*) FROM lifeline_leases WHERE state = 'active' AND expires_at < now()");
  return steps + (steps.empty() ? "" : " ") + "undetected=" + std::to_string(undetected);
}

bool ScenarioDatabase::swept_after(const std::string& db_time, std::chrono::milliseconds after) const {
  // Parameters cannot be passed through query_value; both values come from the database or
  // from this program, never from outside.
  return value("SELECT coalesce(bool_or(last_sweep_at > '" + db_time + "'::timestamptz + interval '" +
               std::to_string(after.count()) + " milliseconds'), false) FROM lifeline_reaper_state") == "t";
}

std::string ScenarioDatabase::db_now() const { return value("SELECT now()::text"); }

long long ScenarioDatabase::replicas_that_decided() const {
  return count("SELECT count(DISTINCT replica) FROM lifeline_audit WHERE replica <> ''");
}

Environment::Environment() = default;

ScenarioDatabase Environment::new_database() { return ScenarioDatabase(pg_, pg_.create_database()); }

Environment::Prefect Environment::new_prefect(std::uint64_t seed) {
  fake_prefect::FakePrefectOptions o;
  o.seed = seed;
  o.threads = 128;  // one per open connection: three reapers hold about a dozen each
  Prefect p;
  p.fake = std::make_unique<fake_prefect::FakePrefect>(o);
  if (auto started = p.fake->start(); !started) throw std::runtime_error("fake Prefect: " + started.error);
  fake_prefect::DeploymentSpec d;
  d.name = "fault-suite";
  p.deployment_id = p.fake->create_deployment(d);
  return p;
}

}  // namespace lifeline::faults
