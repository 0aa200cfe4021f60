#include "tests/observability/prometheus_server.hpp"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// YAML double-quoted scalar (label values here are plain words; escape anyway).
std::string quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string config_text(const PrometheusServer::Settings& s, const std::vector<std::string>& rule_paths) {
  std::ostringstream y;
  y << "global:\n  scrape_interval: " << s.scrape_interval << "\n  scrape_timeout: " << s.scrape_interval
    << "\n  evaluation_interval: " << s.evaluation_interval << "\n";
  if (!rule_paths.empty()) {
    y << "rule_files:\n";
    for (const auto& r : rule_paths) y << "  - " << quoted(r) << "\n";
  }
  // One job per distinct job name; one static_config per target for its own labels.
  std::map<std::string, std::vector<const ScrapeTarget*>> jobs;
  for (const auto& t : s.targets) jobs[t.job].push_back(&t);
  y << "scrape_configs:\n";
  for (const auto& [job, targets] : jobs) {
    y << "  - job_name: " << quoted(job) << "\n    static_configs:\n";
    for (const auto* t : targets) {
      y << "      - targets: [\"127.0.0.1:" << t->port << "\"]\n";
      if (!t->labels.empty()) {
        y << "        labels:\n";
        for (const auto& [k, v] : t->labels) y << "          " << k << ": " << quoted(v) << "\n";
      }
    }
  }
  return y.str();
}

}  // namespace

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<std::string> PrometheusServer::find_binary() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::istringstream in(dirs);
  std::string d;
  while (std::getline(in, d, ':')) {
    fs::path candidate = fs::path(d.empty() ? "." : d) / "prometheus";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

PrometheusServer::PrometheusServer(Settings s) {
  auto binary = find_binary();
  if (!binary) throw std::runtime_error("prometheus is not installed (Debian package prometheus)");
  char tmpl[] = "/tmp/lifeline-prometheus-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;

  std::vector<std::string> rule_paths;
  for (const auto& r : s.rule_files) {
    std::string text = read_text(r);
    if (text.empty()) throw std::runtime_error("rule file missing or empty: " + r);
    if (s.rules_interval) {
      text = std::regex_replace(text, std::regex(R"(^(\s*)interval:\s*\S+)", std::regex::multiline),
                                "$1interval: " + *s.rules_interval);
    }
    fs::path copy = fs::path(dir_) / fs::path(r).filename();
    std::ofstream(copy) << text;
    rule_paths.push_back(copy.string());
  }
  fs::path config = fs::path(dir_) / "prometheus.yml";
  std::ofstream(config) << config_text(s, rule_paths);

  port_ = free_port();
  proc_ = std::make_unique<Subprocess>(Subprocess::Options{
      {*binary, "--config.file=" + config.string(), "--storage.tsdb.path=" + (fs::path(dir_) / "data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn",
       "--storage.tsdb.retention.time=1d"},
      {},
      {},
      true,
      "prometheus-" + std::to_string(port_)});
  bool ready = wait_until(
      [&] {
        if (!proc_->running()) return true;
        httplib::Client cli("127.0.0.1", port_);
        cli.set_connection_timeout(0, 200'000);
        auto res = cli.Get("/-/ready");
        return res && res->status == 200;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(50));
  if (!ready || !proc_->running()) {
    throw std::runtime_error("prometheus did not become ready:\n" + proc_->stderr_text() + "\nconfig:\n" +
                             read_text(config));
  }
}

PrometheusServer::~PrometheusServer() {
  if (proc_ && proc_->running()) {
    proc_->signal(SIGTERM);
    if (!proc_->wait_exit(std::chrono::seconds(10))) proc_->signal_group(SIGKILL);
  }
  proc_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PrometheusServer::log() const { return proc_ ? proc_->stderr_text() : ""; }

PromAnswer PrometheusServer::get(const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& params) const {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(10, 0);
  httplib::Params p;
  for (const auto& [k, v] : params) p.emplace(k, v);
  auto res = cli.Get(path, p, httplib::Headers{});
  PromAnswer a;
  if (!res) {
    a.error = "no answer from prometheus: " + httplib::to_string(res.error());
    return a;
  }
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (body.is_discarded()) {
    a.error = "HTTP " + std::to_string(res->status) + ", not JSON: " + res->body;
    return a;
  }
  if (body.value("status", "") != "success") {
    a.error = "HTTP " + std::to_string(res->status) + " " + body.value("errorType", "") + ": " +
              body.value("error", res->body);
    return a;
  }
  a.ok = true;
  a.data = body["data"];
  return a;
}

PromAnswer PrometheusServer::query(const std::string& expr, std::optional<double> time) const {
  std::vector<std::pair<std::string, std::string>> params{{"query", expr}};
  if (time) params.emplace_back("time", std::to_string(*time));
  return get("/api/v1/query", params);
}

PromAnswer PrometheusServer::query_range(const std::string& expr, double start, double end, double step) const {
  return get("/api/v1/query_range", {{"query", expr},
                                     {"start", std::to_string(start)},
                                     {"end", std::to_string(end)},
                                     {"step", std::to_string(step)}});
}

PromAnswer PrometheusServer::series(const std::string& selector, double start, double end) const {
  return get("/api/v1/series",
             {{"match[]", selector}, {"start", std::to_string(start)}, {"end", std::to_string(end)}});
}

PromAnswer PrometheusServer::rules() const { return get("/api/v1/rules", {}); }
PromAnswer PrometheusServer::targets() const { return get("/api/v1/targets", {}); }

}  // namespace lifeline::testing
