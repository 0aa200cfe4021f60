// lifeline-demo: the story of lifeline on one machine. It starts a throwaway PostgreSQL,
// the fake Prefect API, the reaper, and one sidecar "pod" per scenario, lets pods die in
// the ways pods die, and prints what the reaper detected, how fast, and what Prefect shows.

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shared/time_format.hpp"
#include "tests/e2e/processes.hpp"
#include "tests/fakes/fake_prefect.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/wait.hpp"

using namespace lifeline::testing;
using namespace std::chrono_literals;
using lifeline::fake_prefect::FakePrefect;
using lifeline::fake_prefect::Json;
using lifeline::fake_prefect::RunSpec;
using Clock = std::chrono::system_clock;

namespace {

enum class Fate { completes, vanishes, evicted, crashes, keeps_running, ghost };

struct Scenario {
  std::string label;
  Fate fate;
  std::string workload;
  std::string expected_type;  // final state type in Prefect
  std::string expected_name;
  std::string run_id;
  std::unique_ptr<SidecarPod> pod;
  Clock::time_point event_at{};  // when the pod died or reported (for the detection delay)
  bool event_happened = false;
};

std::string short_id(const std::string& id) { return id.substr(0, 8); }

void say(const std::string& line) { std::cout << line << std::endl; }

std::optional<Clock::time_point> first_crash(FakePrefect& fake, const std::string& run) {
  for (const auto& s : fake.history(run))
    if (s.value("type", "") == "CRASHED") return lifeline::parse_rfc3339(s["timestamp"].get<std::string>());
  return std::nullopt;
}

std::string crash_message(FakePrefect& fake, const std::string& run) {
  for (const auto& s : fake.history(run))
    if (s.value("type", "") == "CRASHED") return s.value("message", "");
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  bool quiet = argc > 1 && std::string(argv[1]) == "--quiet";
  if (argc > 1 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << "usage: lifeline-demo [--quiet]\n"
                 "Runs the local demonstration (PostgreSQL, fake Prefect, reaper, sidecars) and prints\n"
                 "a table of what was detected and retried. Takes about half a minute.\n";
    return 0;
  }
  try {
    say("lifeline demonstration: starting a throwaway PostgreSQL, the fake Prefect API and the reaper");
    TempPostgres pg;
    FakePrefect fake;
    if (!fake.start()) throw std::runtime_error("fake Prefect did not start");
    ReaperProcess::Settings rs;
    rs.database_url = pg.create_database();
    rs.prefect_api_url = fake.api_url();
    rs.interval = "250ms";
    rs.orphan_grace = "6s";
    rs.retry_delay = "30s";
    ReaperProcess reaper(rs);
    say("  PostgreSQL on 127.0.0.1:" + std::to_string(pg.port()) + ", fake Prefect at " + fake.api_url() +
        ", reaper at " + reaper.url());
    say("  sidecars: heartbeat interval 1s, lease TTL 5s, kill grace 1s");

    std::vector<Scenario> scenarios;
    auto add = [&](std::string label, Fate fate, std::string workload, std::string type, std::string name) {
      Scenario s;
      s.label = std::move(label);
      s.fate = fate;
      s.workload = std::move(workload);
      s.expected_type = std::move(type);
      s.expected_name = std::move(name);
      scenarios.push_back(std::move(s));
    };
    add("finishes normally", Fate::completes, "sleep 3; exit 0", "COMPLETED", "Completed");
    add("pod vanishes with its node (SIGKILL)", Fate::vanishes, "sleep 600", "SCHEDULED", "AwaitingRetry");
    add("pod evicted (SIGTERM to the pod)", Fate::evicted, "sleep 600", "SCHEDULED", "AwaitingRetry");
    add("workload dies, exit 1, run still Running", Fate::crashes, "sleep 3; exit 1", "SCHEDULED", "AwaitingRetry");
    add("healthy, long running", Fate::keeps_running, "sleep 600", "RUNNING", "Running");
    add("ghost: Running in Prefect, no pod at all", Fate::ghost, "", "SCHEDULED", "AwaitingRetry");

    int n = 0;
    for (auto& s : scenarios) {
      RunSpec spec;
      spec.state = "RUNNING";
      spec.with_deployment = true;
      spec.work_pool_name = "k8s";
      s.run_id = fake.create_run(spec);
      if (s.fate == Fate::ghost) continue;
      SidecarPod::Settings p;
      p.run_id = s.run_id;
      p.reaper_url = reaper.url();
      p.holder = "flow-run-" + short_id(s.run_id) + "-pod" + std::to_string(++n);
      p.node = "node-" + std::to_string(n % 3 + 1);
      p.workload = s.workload;
      s.pod = std::make_unique<SidecarPod>(p);
    }
    for (auto& s : scenarios)
      if (s.pod && !s.pod->wait_ready(10s))
        throw std::runtime_error("a sidecar did not get its lease:\n" + s.pod->sidecar().stderr_text());
    auto ghost_since = Clock::now();
    say("  " + std::to_string(scenarios.size() - 1) + " pods hold their leases; one run is a ghost");

    // Let them work, then strike.
    std::this_thread::sleep_for(2s);  // pacing of the demonstration: two heartbeats pass (ok)
    for (auto& s : scenarios) {
      switch (s.fate) {
        case Fate::vanishes:
          s.event_at = Clock::now();
          s.pod->vanish();
          s.event_happened = true;
          say("  " + short_id(s.run_id) + ": pod killed with its workload (node gone)");
          break;
        case Fate::evicted:
          s.event_at = Clock::now();
          s.pod->evict();
          s.event_happened = true;
          say("  " + short_id(s.run_id) + ": pod evicted (SIGTERM)");
          break;
        case Fate::completes:
          fake.set_flow_run_state(s.run_id, Json{{"type", "COMPLETED"}, {"name", "Completed"}});
          say("  " + short_id(s.run_id) + ": flow reported Completed; its process exits next");
          break;
        default:
          break;
      }
    }
    for (auto& s : scenarios) {
      if (s.fate == Fate::crashes) {
        s.pod->sidecar().wait_exit(10s);
        s.event_at = Clock::now();
        s.event_happened = true;
        say("  " + short_id(s.run_id) + ": workload exited with code 1 without reporting to Prefect");
      }
      if (s.fate == Fate::ghost) {
        s.event_at = ghost_since;
        s.event_happened = true;
      }
    }

    bool all = wait_until(
        [&] {
          for (auto& s : scenarios) {
            auto run = fake.flow_run(s.run_id);
            if (!run || (*run)["state"].value("type", "") != s.expected_type ||
                (*run)["state"].value("name", "") != s.expected_name)
              return false;
          }
          return true;
        },
        40s, 50ms);

    std::printf("\n%-10s %-44s %-10s %-12s %-15s %s\n", "run", "what happened", "detected", "delay (s)",
                "Prefect state", "retry at");
    std::printf("%s\n", std::string(110, '-').c_str());
    for (auto& s : scenarios) {
      auto run = fake.flow_run(s.run_id);
      std::string state = run ? (*run)["state"].value("name", "?") : "?";
      std::string retry = run && (*run)["state"].value("type", "") == "SCHEDULED"
                              ? (*run)["state"]["state_details"].value("scheduled_time", "")
                              : "-";
      auto crash = first_crash(fake, s.run_id);
      std::string detected = crash ? "Crashed" : "no";
      char delay[32] = "-";
      if (crash && s.event_happened) {
        double secs = std::chrono::duration<double>(*crash - s.event_at).count();
        std::snprintf(delay, sizeof delay, "%.2f", secs);
      }
      std::printf("%-10s %-44s %-10s %-12s %-15s %s\n", short_id(s.run_id).c_str(), s.label.c_str(), detected.c_str(),
                  delay, state.c_str(), retry.substr(0, 19).c_str());
    }
    std::printf("\nthe reaper's messages in Prefect:\n");
    for (auto& s : scenarios) {
      auto msg = crash_message(fake, s.run_id);
      if (!msg.empty()) std::printf("  %s: %s\n", short_id(s.run_id).c_str(), msg.c_str());
    }
    std::printf("\nPrefect API calls made by the reaper: %zu; forced transitions: none (every set_state unforced)\n",
                fake.calls().size());
    std::printf("delays: the vanished pod is found when its lease TTL (5s) runs out; evictions and failed exits are\n"
                "reported by the sidecar at once; the ghost run is found by the orphan sweep (orphan_grace 6s).\n");
    if (!quiet) {
      std::string metrics;
      http_get_status(reaper.port(), "/metrics", &metrics);
      std::printf("\nreaper metrics (excerpt):\n");
      std::istringstream in(metrics);
      std::string line;
      while (std::getline(in, line))
        if ((line.rfind("lifeline_reaper_reaps_total", 0) == 0 || line.rfind("lifeline_reaper_retries_scheduled_total", 0) == 0) &&
            line.substr(line.size() - 2) != " 0")
          std::printf("  %s\n", line.c_str());
    }
    if (!all) {
      std::printf("\nnot every run reached its expected state within 40 s (see the table); reaper log:\n%s\n",
                  reaper.process().stderr_text().c_str());
      return 1;
    }
    std::printf("\nevery run reached the expected state.\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lifeline-demo: %s\n", e.what());
    return 1;
  }
}
