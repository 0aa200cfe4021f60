#include "sidecar/workload/proc_scan.hpp"

#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace lifeline::sidecar {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<pid_t> as_pid(const char* name) {
  pid_t pid = 0;
  std::string_view s(name);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
  if (ec != std::errc{} || p != s.data() + s.size() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

std::optional<ProcInfo> read_proc(const std::string& proc_root, pid_t pid) {
  std::string dir = proc_root + "/" + std::to_string(pid);
  std::string stat = read_file(dir + "/stat");
  // "pid (comm) state ppid ..." where comm may contain spaces and parentheses.
  auto close = stat.rfind(')');
  if (stat.empty() || close == std::string::npos) return std::nullopt;
  ProcInfo info;
  info.pid = pid;
  auto open = stat.find('(');
  if (open != std::string::npos && open < close) info.comm = stat.substr(open + 1, close - open - 1);
  std::istringstream rest(stat.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string tok; rest >> tok;) f.push_back(tok);
  if (f.size() < 20) return std::nullopt;
  info.state = f[0].empty() ? '?' : f[0][0];
  info.ppid = static_cast<pid_t>(std::stol(f[1]));
  info.start_time = std::stoull(f[19]);  // field 22
  if (info.state == 'Z' && f.size() >= 50) info.exit_code = std::stoi(f[49]);  // field 52
  info.has_cmdline = !read_file(dir + "/cmdline").empty();
  return info;
}

std::vector<ProcInfo> find_targets(const TargetSpec& spec, const std::string& proc_root, pid_t self) {
  std::vector<ProcInfo> out;
  if (spec.kind == TargetSpec::Kind::none) return out;
  if (spec.kind == TargetSpec::Kind::pid) {
    auto p = read_proc(proc_root, spec.pid);
    if (p && p->state != 'Z') out.push_back(*p);
    return out;
  }
  DIR* d = ::opendir(proc_root.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    auto pid = as_pid(e->d_name);
    if (!pid || *pid == self) continue;
    auto p = read_proc(proc_root, *pid);
    if (!p || p->state == 'Z' || !p->has_cmdline) continue;
    if (spec.kind == TargetSpec::Kind::name) {
      if (p->comm == spec.comm) out.push_back(*p);
    } else if (!(p->pid == 1 && p->comm == "pause")) {
      out.push_back(*p);
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const ProcInfo& a, const ProcInfo& b) { return a.pid < b.pid; });
  return out;
}

}  // namespace lifeline::sidecar
