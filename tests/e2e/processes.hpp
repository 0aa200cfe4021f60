#pragma once
// The real programs as end-to-end tests and the demonstration run them: a reaper
// process with a configuration file, and "pods": a sidecar in exec mode wrapping a
// workload, killable together like a vanished pod or signalled like an evicted one.
// Thread-safety: one owner thread.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace lifeline::testing {

// A lifeline-reaper process serving on 127.0.0.1 with a generated TOML file.
class ReaperProcess {
 public:
  struct Settings {
    std::string database_url;
    std::string prefect_api_url;  // e.g. http://127.0.0.1:PORT/api
    std::string min_ttl = "1s";
    std::string max_ttl = "10m";
    std::string interval = "200ms";
    std::string completion_grace = "60s";
    std::string orphan_grace = "0s";
    std::string claim_timeout = "60s";
    int max_attempts = 3;
    std::string retry_delay = "1s";
    std::string prefect_timeout = "5s";  // [prefect].timeout: one Prefect request at most
    int max_in_flight = 8;               // [prefect].max_in_flight
    std::string extra_toml;       // appended verbatim (e.g. [[policy]] tables)
    std::string name = "reaper";
  };
  explicit ReaperProcess(Settings s);  // starts it and waits until it serves (throws otherwise)
  ~ReaperProcess();

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Subprocess& process() { return *proc_; }
  const std::string& config_path() const { return config_path_; }

 private:
  std::string config_path_;
  std::unique_ptr<Subprocess> proc_;
  std::uint16_t port_ = 0;
};

// A pod: lifeline-sidecar exec -- /bin/sh -c WORKLOAD, in its own process group.
class SidecarPod {
 public:
  struct Settings {
    std::string run_id;
    std::string reaper_url;
    std::string holder;          // the pod name
    std::string node = "node-1";
    std::string interval = "1s";
    std::string ttl = "5s";
    std::string kill_grace = "1s";
    std::string workload = "sleep 600";  // /bin/sh -c
    std::vector<std::string> extra_args;
  };
  explicit SidecarPod(Settings s);
  ~SidecarPod();

  // The workload's pid (the sidecar's child), once started; -1 if not (yet) known.
  pid_t workload_pid() const;
  // Both processes gone at once, as when a node vanishes: SIGKILL to both groups.
  void vanish();
  // SIGTERM to the sidecar, as the kubelet does on eviction.
  void evict();
  Subprocess& sidecar() { return *proc_; }
  const Settings& settings() const { return settings_; }
  // Waits for the first acknowledged heartbeat (the sidecar's /readyz answers 200).
  bool wait_ready(std::chrono::milliseconds timeout);
  std::uint16_t health_port() const { return health_port_; }

 private:
  Settings settings_;
  std::unique_ptr<Subprocess> proc_;
  std::uint16_t health_port_ = 0;
};

// GET http://127.0.0.1:port/path -> status (0 when no answer).
int http_get_status(std::uint16_t port, const std::string& path, std::string* body = nullptr);

}  // namespace lifeline::testing
