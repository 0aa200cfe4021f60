#pragma once
// The services every scenario runs against: a fresh database in the shared PostgreSQL
// (LIFELINE_TEST_PG_PORT's cluster, else one started for this process), the fake Prefect
// API in process, and N lifeline-reaper replicas over that one database. Sidecars are
// spread over the replicas as a Kubernetes Service would spread them.
// Thread-safety: construction and destruction on one thread; fake() is thread-safe, the
// reapers are read-only after construction.

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/processes.hpp"
#include "tests/fakes/fake_prefect.hpp"
#include "tests/faults/soak/command_line.hpp"

namespace lifeline::faults {

class TestBed {
 public:
  explicit TestBed(const Options& options);  // throws std::runtime_error if a part does not start
  ~TestBed();

  fake_prefect::FakePrefect& fake() { return fake_; }
  const std::vector<std::unique_ptr<testing::ReaperProcess>>& reapers() const { return reapers_; }
  testing::ReaperProcess& reaper_for(std::size_t pod_index) { return *reapers_[pod_index % reapers_.size()]; }
  // A RUNNING run of the one deployment (so the reaper may reschedule it).
  std::string create_running_run();
  // Sum of a reaper counter over the replicas: lines of `metric` whose labels contain
  // every one of `label_parts` (e.g. outcome="crashed").
  double reaper_counter_sum(const std::string& metric, const std::vector<std::string>& label_parts) const;
  // One value from the reapers' database (first row, first column), as superuser.
  std::string query_value(const std::string& sql) const;

 private:
  fake_prefect::FakePrefect fake_;
  std::string deployment_id_;
  std::string database_;  // the database name in the shared cluster
  std::vector<std::unique_ptr<testing::ReaperProcess>> reapers_;
};

}  // namespace lifeline::faults
