#include "tests/faults/reaper/run_book.hpp"

#include <algorithm>

namespace lifeline::faults {

RunBook::RunBook(fake_prefect::FakePrefect& fake, std::string deployment_id, HeartbeatFleet* fleet)
    : fake_(fake), deployment_id_(std::move(deployment_id)), fleet_(fleet) {}

std::string RunBook::create_run() {
  fake_prefect::RunSpec spec;
  spec.deployment_id = deployment_id_;
  return fake_.create_run(spec);
}

std::string RunBook::add_healthy(int ttl_seconds) {
  std::string run = create_run();
  runs_.push_back({run, Kind::healthy, ""});
  fleet_->add(run, "sim-healthy-" + std::to_string(next_holder_++), ttl_seconds, 0);
  return run;
}

void RunBook::give_dying_runs_task_runs(const std::string& tag) {
  fake_.create_tag_limit(tag, 1'000'000);
  task_tag_ = tag;
}

int RunBook::tag_slots_taken() const {
  if (task_tag_.empty()) return 0;
  auto limit = fake_.concurrency_limit("tag:" + task_tag_);
  return limit ? limit->value("active_slots", -1) : -1;
}

std::string RunBook::add_dying(int ttl_seconds, int beats) {
  std::string run = create_run();
  std::string task_run;
  if (!task_tag_.empty()) {
    fake_prefect::TaskRunSpecForTest spec;
    spec.flow_run_id = run;
    spec.tags = {task_tag_};
    task_run = fake_.create_task_run(spec);
  }
  runs_.push_back({run, Kind::dying_simulated, task_run});
  fleet_->add(run, "sim-dying-" + std::to_string(next_holder_++), ttl_seconds, beats);
  return run;
}

void RunBook::track_pod_run(const std::string& run) { runs_.push_back({run, Kind::healthy, ""}); }

void RunBook::mark_dead(const std::string& run) {
  for (auto& e : runs_)
    if (e.run == run) e.kind = Kind::dead;
  if (fleet_ != nullptr) fleet_->stop_renewing(run);
}

bool RunBook::is_dead(const Entry& e) const {
  if (e.kind == Kind::dead) return true;
  if (e.kind != Kind::dying_simulated) return false;
  // Held at some point: acknowledged, or answered "stop" because it already expired.
  auto v = fleet_->view(e.run);
  return v && (v->acked > 0 || v->stops > 0);
}

std::pair<int, int> RunBook::crashed_and_retried(const std::string& run) const {
  int crashed = 0, retried = 0;
  for (const auto& s : fake_.history(run)) {
    const std::string type = s.value("type", "");
    if (type == "CRASHED") ++crashed;
    if (type == "SCHEDULED" && s.value("name", "") == "AwaitingRetry") ++retried;
  }
  return {crashed, retried};
}

RunBook::Tally RunBook::tally() const {
  Tally t;
  for (const auto& e : runs_) {
    auto [crashed, retried] = crashed_and_retried(e.run);
    const bool dead = is_dead(e);
    const bool unleased = e.kind == Kind::dying_simulated && !dead;
    std::string kind = dead ? "dead" : unleased ? "unleased" : "healthy";
    bool problem = false;
    if (crashed > 1 || retried > 1) {
      ++t.duplicates;
      problem = true;
    }
    if (dead && !e.task_run.empty()) {
      int task_crashed = 0;
      for (const auto& st : fake_.task_run_history(e.task_run))
        if (st.value("type", "") == "CRASHED") ++task_crashed;
      ++t.task_runs;
      if (task_crashed == 1) ++t.task_runs_crashed_once;
      if (task_crashed > 1) ++t.task_run_duplicates, problem = true;
      if (task_crashed == 0) ++t.task_runs_lost, problem = true;
      kind += " task_run=" + e.task_run + " task_crashed=" + std::to_string(task_crashed);
    }
    if (!dead && !e.task_run.empty()) ++t.task_runs_not_dead;
    if (dead) {
      ++t.dead;
      if (crashed == 1 && retried == 1) ++t.reaped_once;
      if (crashed == 0 || retried == 0) {
        ++t.lost;
        problem = true;
      }
    } else if (unleased) {
      ++t.unleased;
      if (crashed > 0) ++t.unleased_crashed, problem = true;
    } else {
      ++t.healthy;
      if (crashed > 0) ++t.healthy_crashed, problem = true;
      if (auto v = fleet_ != nullptr ? fleet_->view(e.run) : std::nullopt) {
        if (v->stops > 0 || v->conflicts > 0) {
          ++t.healthy_lost_lease;
          problem = true;
          kind += " lease_lost(" + v->last_stop_reason + ")";
        }
        t.healthy_max_gap = std::max(t.healthy_max_gap, v->max_gap);
      }
    }
    if (problem && t.evidence.size() < 20)
      t.evidence.push_back(e.run + " " + kind + " crashed=" + std::to_string(crashed) +
                           " awaiting_retry=" + std::to_string(retried));
  }
  return t;
}

bool RunBook::all_dead_reaped() const {
  for (const auto& e : runs_) {
    if (!is_dead(e)) continue;
    auto [crashed, retried] = crashed_and_retried(e.run);
    if (crashed == 0 || retried == 0) return false;
  }
  return true;
}

int RunBook::dead_reaped_count() const {
  int n = 0;
  for (const auto& e : runs_) {
    if (!is_dead(e)) continue;
    auto [crashed, retried] = crashed_and_retried(e.run);
    if (crashed > 0 && retried > 0) ++n;
  }
  return n;
}

}  // namespace lifeline::faults
