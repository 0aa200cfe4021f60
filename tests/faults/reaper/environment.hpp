#pragma once
// The world the scenarios share: one private PostgreSQL cluster (private because the
// pg-restart scenario stops and starts it), a fresh database and a fresh fake Prefect per
// scenario, and the questions the driver asks the reaper's tables directly.
// Thread-safety: one owner thread (the driver's main thread).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tests/fakes/fake_prefect.hpp"
#include "tests/support/postgres_fixture.hpp"

namespace lifeline::faults {

// One scenario's database, read directly (not through a reaper) by the driver.
class ScenarioDatabase {
 public:
  ScenarioDatabase(testing::TempPostgres& pg, std::string uri);
  const std::string& uri() const { return uri_; }
  // The same database reached through another port (a proxy in front of PostgreSQL).
  std::string uri_via_port(std::uint16_t port) const;

  std::string value(const std::string& sql) const;  // first row, first column ("" for NULL)
  long long count(const std::string& sql) const;

  // Reap jobs not finished yet (detected, crashing, freeing, rescheduling).
  long long unfinished_jobs() const;
  // "detected=3 crashing=2 ..." for unfinished jobs, plus expired active leases nobody has
  // detected yet ("undetected=N"): where the pipeline stood at one instant.
  std::string pipeline_snapshot() const;
  // True once a sweep ran strictly after the database time `db_time` (RFC 3339 or
  // PostgreSQL text) plus `after`.
  bool swept_after(const std::string& db_time, std::chrono::milliseconds after) const;
  std::string db_now() const;
  // Distinct replicas that recorded a decision in lifeline_audit.
  long long replicas_that_decided() const;

 private:
  testing::TempPostgres& pg_;
  std::string uri_;
  std::string name_;
};

class Environment {
 public:
  Environment();  // starts the private cluster (throws with its log otherwise)
  testing::TempPostgres& pg() { return pg_; }
  ScenarioDatabase new_database();
  // A started fake Prefect with threads for several reapers' connections, and one
  // deployment every run of the scenario belongs to (so each run can be rescheduled).
  struct Prefect {
    std::unique_ptr<fake_prefect::FakePrefect> fake;
    std::string deployment_id;
  };
  Prefect new_prefect(std::uint64_t seed);

 private:
  testing::TempPostgres pg_;
};

}  // namespace lifeline::faults
