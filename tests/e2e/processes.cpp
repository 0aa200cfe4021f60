#include "tests/e2e/processes.hpp"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace lifeline::testing {
namespace {

std::atomic<int> g_config_counter{0};

std::string temp_config_path(const std::string& name) {
  return "/tmp/lifeline-e2e-" + std::to_string(getpid()) + "-" + std::to_string(g_config_counter++) + "-" + name +
         ".toml";
}

}  // namespace

ReaperProcess::ReaperProcess(Settings s) {
  config_path_ = temp_config_path(s.name);
  std::ofstream f(config_path_);
  f << "[server]\nlisten = \"127.0.0.1:0\"\n\n"
    << "[database]\nurl = \"" << s.database_url << "\"\n\n"
    << "[prefect]\napi_url = \"" << s.prefect_api_url << "\"\ntimeout = \"" << s.prefect_timeout << "\"\nmax_in_flight = "
    << s.max_in_flight << "\n\n"
    << "[leases]\nmin_ttl = \"" << s.min_ttl << "\"\nmax_ttl = \"" << s.max_ttl << "\"\ncompletion_grace = \""
    << s.completion_grace << "\"\n\n"
    << "[reaper]\ninterval = \"" << s.interval << "\"\norphan_grace = \"" << s.orphan_grace << "\"\nclaim_timeout = \"" << s.claim_timeout << "\"\n\n"
    << "[retry]\nmax_attempts = " << s.max_attempts << "\ndelay = \"" << s.retry_delay
    << "\"\nmax_delay = \"1m\"\nmultiplier = 2.0\njitter = 0.0\n\n"
    << s.extra_toml;
  f.close();
  proc_ = std::make_unique<Subprocess>(Subprocess::Options{
      {bin_path("lifeline-reaper"), "--config", config_path_}, {}, {}, true, s.name});
  auto port = proc_->wait_for_output(std::regex(R"(listening.*port=(\d+))"), std::chrono::seconds(30), true);
  if (!port) {
    throw std::runtime_error("reaper did not start serving:\n" + proc_->stderr_text());
  }
  port_ = static_cast<std::uint16_t>(std::stoi(*port));
}

ReaperProcess::~ReaperProcess() {
  if (proc_ && proc_->running()) {
    proc_->signal(SIGTERM);
    if (!proc_->wait_exit(std::chrono::seconds(10))) proc_->signal_group(SIGKILL);
  }
  ::unlink(config_path_.c_str());
}

SidecarPod::SidecarPod(Settings s) : settings_(std::move(s)) {
  std::vector<std::string> argv{bin_path("lifeline-sidecar"),
                                "exec",
                                "--run-id=" + settings_.run_id,
                                "--reaper-url=" + settings_.reaper_url,
                                "--holder=" + settings_.holder,
                                "--node=" + settings_.node,
                                "--interval=" + settings_.interval,
                                "--ttl=" + settings_.ttl,
                                "--kill-grace=" + settings_.kill_grace,
                                "--listen=127.0.0.1:0"};
  for (const auto& a : settings_.extra_args) argv.push_back(a);
  argv.insert(argv.end(), {"--", "/bin/sh", "-c", settings_.workload});
  proc_ = std::make_unique<Subprocess>(
      Subprocess::Options{argv, {}, {"LIFELINE_RUN_ID", "PREFECT__FLOW_RUN_ID", "LIFELINE_TOKEN_FILE"}, true,
                          "sidecar-" + settings_.holder});
  auto port = proc_->wait_for_output(std::regex(R"(listening.*port=(\d+))"), std::chrono::seconds(10), true);
  if (port) health_port_ = static_cast<std::uint16_t>(std::stoi(*port));
}

SidecarPod::~SidecarPod() {
  // Once the sidecar has been waited for, its pid (and its workload's, read from its
  // /proc children) may belong to an unrelated new process: signal only a live sidecar.
  // Long soaks wrap pid_max, so this is not hypothetical.
  if (!proc_ || !proc_->running()) return;
  pid_t w = workload_pid();
  proc_->signal_group(SIGKILL);
  if (w > 0) ::kill(-w, SIGKILL), ::kill(w, SIGKILL);
}

pid_t SidecarPod::workload_pid() const {
  std::ifstream children("/proc/" + std::to_string(proc_->pid()) + "/task/" + std::to_string(proc_->pid()) +
                         "/children");
  pid_t pid = -1;
  children >> pid;
  return pid;
}

void SidecarPod::vanish() {
  pid_t w = workload_pid();
  proc_->signal_group(SIGKILL);
  proc_->signal(SIGKILL);
  if (w > 0) {
    ::kill(-w, SIGKILL);
    ::kill(w, SIGKILL);
  }
}

void SidecarPod::evict() { proc_->signal(SIGTERM); }

bool SidecarPod::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (health_port_ != 0 && http_get_status(health_port_, "/readyz") == 200) return true;
    if (!proc_->running()) return false;
    usleep(10'000);  // poll interval of a deadline-bounded wait (ok)
  }
  return false;
}

int http_get_status(std::uint16_t port, const std::string& path, std::string* body) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(1, 0);
  cli.set_read_timeout(2, 0);
  auto res = cli.Get(path);
  if (!res) return 0;
  if (body != nullptr) *body = res->body;
  return res->status;
}

}  // namespace lifeline::testing
