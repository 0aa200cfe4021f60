#include "tests/faults/soak/soak_pod.hpp"

#include <unistd.h>

#include <cstdio>

#include "tests/faults/soak/run_facts.hpp"

namespace lifeline::faults {

using namespace std::chrono_literals;
using fake_prefect::Json;

namespace {

// Generous bounds on each phase: a pod that overstays one is a finding, not a hang.
constexpr auto kStartBound = 15s;
constexpr auto kExitBound = 20s;
constexpr auto kReapSlack = 30s;
// "The flow" reports Completed this long before its workload's sleep ends, as Prefect's
// engine sets the final state before the process exits.
constexpr Seconds kCompleteEarly{1.5};

std::string sleep_command(Seconds s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "exec sleep %.3f", s.count());
  return buf;
}

}  // namespace

const char* fate_name(Fate f) {
  switch (f) {
    case Fate::healthy: return "healthy";
    case Fate::killed: return "killed";
    case Fate::evicted: return "evicted";
  }
  return "?";
}

SoakPod::SoakPod(PodRecord record, const PodTiming& timing, const std::string& reaper_url, Seconds run_length,
                 Seconds strike_after)
    : record_(std::move(record)),
      run_length_(run_length),
      strike_after_(strike_after),
      ttl_(timing.ttl_s),
      created_(std::chrono::steady_clock::now()) {
  testing::SidecarPod::Settings s;
  s.run_id = record_.run_id;
  s.reaper_url = reaper_url;
  s.holder = record_.holder;
  s.node = "node-" + std::to_string(record_.index % 20 + 1);
  s.interval = timing.interval;
  s.ttl = timing.ttl;
  s.kill_grace = timing.kill_grace;
  s.workload = sleep_command(run_length);
  pod_ = std::make_unique<testing::SidecarPod>(s);
  record_.log_paths = pod_->sidecar().stderr_path();
}

SoakPod::~SoakPod() = default;

void SoakPod::forget_logs() {
  if (!pod_) return;
  ::unlink(pod_->sidecar().stdout_path().c_str());
  ::unlink(pod_->sidecar().stderr_path().c_str());
}

bool SoakPod::poll_exit() {
  if (pod_->sidecar().running()) return false;
  record_.sidecar_exit = pod_->sidecar().exit_code();
  return true;
}

void SoakPod::settle(const std::string& problem) {
  if (record_.problem.empty()) record_.problem = problem;
  phase_ = Phase::settled;
}

bool SoakPod::step(fake_prefect::FakePrefect& fake, SteadyPoint now) {
  switch (phase_) {
    case Phase::starting: {
      if (poll_exit()) {
        settle("sidecar exited with status " + std::to_string(record_.sidecar_exit.value_or(-1)) +
               " before starting its workload");
        break;
      }
      if (pod_->workload_pid() > 0) {
        record_.workload_started = true;
        workload_seen_ = now;
        phase_ = Phase::running;
      } else if (now - created_ > kStartBound) {
        pod_->vanish();
        record_.problem = "no workload within 15 s of the sidecar's start";
        phase_ = Phase::exiting;
        struck_steady_ = now;
      }
      break;
    }
    case Phase::running: {
      if (poll_exit()) {
        if (record_.fate != Fate::healthy) {
          settle("sidecar exited (status " + std::to_string(record_.sidecar_exit.value_or(-1)) +
                 ") before its fault was injected");
        } else {
          on_exit(fake);
        }
        break;
      }
      const auto age = std::chrono::duration_cast<Seconds>(now - workload_seen_);
      if (record_.fate == Fate::healthy) {
        if (!record_.completion_reported && age >= run_length_ - kCompleteEarly) {
          auto answer = fake.set_flow_run_state(record_.run_id, Json{{"type", "COMPLETED"}, {"name", "Completed"}});
          record_.completion_reported = true;
          if (answer.status != 201) record_.problem = "COMPLETED answered " + std::to_string(answer.status);
        }
        if (age > run_length_ + kExitBound) {
          record_.problem = "workload still running 20 s after its sleep should have ended";
          pod_->vanish();
          phase_ = Phase::exiting;
          struck_steady_ = now;
        }
      } else if (age >= strike_after_) {
        record_.struck_at = std::chrono::system_clock::now();
        struck_steady_ = now;
        if (record_.fate == Fate::killed) pod_->vanish();
        else pod_->evict();
        phase_ = Phase::exiting;
      }
      break;
    }
    case Phase::exiting: {
      if (poll_exit()) {
        on_exit(fake);
      } else if (now - struck_steady_ > kExitBound) {
        pod_->vanish();
        record_.problem = "sidecar still running 20 s after " + std::string(record_.fate == Fate::evicted ? "SIGTERM" : "its end");
      }
      break;
    }
    case Phase::awaiting_reap: {
      auto facts = run_facts(fake, record_.run_id);
      if (facts.crashed >= 1 && facts.awaiting_retry >= 1 && facts.awaiting_retry_now()) {
        phase_ = Phase::settled;
      } else if (now - struck_steady_ > ttl_ + kReapSlack) {
        settle("not Crashed and AwaitingRetry within TTL + 30 s (state now " + facts.type + "/" + facts.name + ")");
      }
      break;
    }
    case Phase::settled:
      break;
  }
  return phase_ == Phase::settled;
}

// The sidecar has exited (and was waited for).
void SoakPod::on_exit(fake_prefect::FakePrefect& fake) {
  if (record_.fate == Fate::healthy && record_.problem.empty() && !record_.completion_reported) {
    // The workload beat this driver to it (the driver was starved): report now, well
    // within the reaper's completion grace, and count it.
    auto answer = fake.set_flow_run_state(record_.run_id, Json{{"type", "COMPLETED"}, {"name", "Completed"}});
    record_.completion_late = true;
    record_.completion_reported = true;
    if (answer.status != 201) record_.problem = "late COMPLETED answered " + std::to_string(answer.status);
  }
  phase_ = record_.problem.empty() && record_.fate != Fate::healthy ? Phase::awaiting_reap : Phase::settled;
}

}  // namespace lifeline::faults
