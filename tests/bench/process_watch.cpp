#include "tests/bench/process_watch.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace lifeline::bench {
namespace {

struct StatLine {
  int ppid = 0;
  double cpu = 0;
};

bool read_stat(int pid, StatLine& out) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(f, text)) return false;
  // The command name may hold spaces; fields resume after its closing parenthesis.
  auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(text.substr(close + 2));
  std::string state;
  long long ppid = 0, pgrp, session, tty, tpgid;
  unsigned long long flags, minflt, cminflt, majflt, cmajflt, utime = 0, stime = 0;
  in >> state >> ppid >> pgrp >> session >> tty >> tpgid >> flags >> minflt >> cminflt >> majflt >> cmajflt >> utime >>
      stime;
  if (!in) return false;
  out.ppid = static_cast<int>(ppid);
  out.cpu = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return true;
}

}  // namespace

double tree_cpu_seconds(int root) {
  std::map<int, StatLine> all;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    StatLine s;
    if (read_stat(std::stoi(name), s)) all[std::stoi(name)] = s;
  }
  if (!all.count(root)) return 0;
  double total = 0;
  std::vector<int> frontier{root};
  while (!frontier.empty()) {
    int p = frontier.back();
    frontier.pop_back();
    total += all[p].cpu;
    for (const auto& [pid, s] : all)
      if (s.ppid == p && pid != p) frontier.push_back(pid);
  }
  return total;
}

std::int64_t rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

double load_average() {
  std::ifstream f("/proc/loadavg");
  double one = 0;
  f >> one;
  return one;
}

std::string machine_summary() {
  std::string model = "unknown";
  {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  std::int64_t mem_kib = 0;
  {
    std::ifstream f("/proc/meminfo");
    std::string key;
    f >> key >> mem_kib;
  }
  std::ifstream la("/proc/loadavg");
  std::string l1, l5, l15;
  la >> l1 >> l5 >> l15;
  std::ostringstream out;
  out << sysconf(_SC_NPROCESSORS_ONLN) << " cores (" << model << "), " << mem_kib / 1024 / 1024 << " GiB RAM, load "
      << l1 << ' ' << l5 << ' ' << l15;
  return out.str();
}

}  // namespace lifeline::bench
