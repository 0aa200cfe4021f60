#include "tests/bench/bench_reaper.hpp"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace lifeline::bench {

std::string bench_reaper_toml(const BenchReaperSettings& s) {
  std::ostringstream f;
  f << "[server]\nlisten = \"127.0.0.1:0\"\n\n"
    << "[database]\nurl = \"" << s.database_url << "\"\n\n"
    << "[prefect]\napi_url = \"" << s.prefect_api_url << "\"\ntimeout = \"" << s.prefect_timeout
    << "\"\nmax_in_flight = " << s.max_in_flight << "\n\n"
    << "[leases]\nmin_ttl = \"" << s.min_ttl << "\"\nmax_ttl = \"" << s.max_ttl << "\"\n\n"
    << "[reaper]\ninterval = \"" << s.interval << "\"\nbatch_size = " << s.batch_size << "\norphan_grace = \""
    << s.orphan_grace << "\"\nstatus_refresh = \"" << s.status_refresh << "\"\n\n"
    << "[retry]\nmax_attempts = " << s.max_attempts << "\ndelay = \"" << s.retry_delay
    << "\"\nmax_delay = \"1m\"\nmultiplier = 2.0\njitter = 0.0\n\n"
    << s.extra_toml;
  return f.str();
}

BenchReaper::BenchReaper(BenchReaperSettings s) {
  config_path_ = "/tmp/lifeline-bench-" + std::to_string(getpid()) + "-" + s.name + ".toml";
  {
    std::ofstream f(config_path_);
    f << bench_reaper_toml(s);
  }
  proc_ = std::make_unique<lifeline::testing::Subprocess>(lifeline::testing::Subprocess::Options{
      {lifeline::testing::bin_path("lifeline-reaper"), "--config", config_path_},
      s.preload.empty() ? std::map<std::string, std::string>{} : std::map<std::string, std::string>{{"LD_PRELOAD", s.preload}},
      {},
      true,
      s.name});
  auto port = proc_->wait_for_output(std::regex(R"(listening.*port=(\d+))"), std::chrono::seconds(30), true);
  if (!port) throw std::runtime_error("lifeline-reaper did not start serving:\n" + proc_->stderr_text());
  port_ = static_cast<std::uint16_t>(std::stoi(*port));
}

BenchReaper::~BenchReaper() {
  if (proc_ && proc_->running()) {
    proc_->signal(SIGTERM);
    if (!proc_->wait_exit(std::chrono::seconds(15))) proc_->signal_group(SIGKILL);
  }
  ::unlink(config_path_.c_str());
}

int BenchReaper::pid() const { return proc_->pid(); }

std::string BenchReaper::metrics() const {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  auto res = cli.Get("/metrics");
  return res && res->status == 200 ? res->body : std::string();
}

double BenchReaper::metric_sum(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  double total = 0;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    // The name must end where the prefix does (or continue with its labels).
    if (line.size() > prefix.size() && line[prefix.size()] != ' ' && line[prefix.size()] != '{' &&
        prefix.back() != ',' && prefix.back() != '{')
      continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    try {
      total += std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
    }
  }
  return total;
}

}  // namespace lifeline::bench
