// sidecar_footprint: what one lifeline-sidecar costs a flow-run pod. Not a test: prints
// figures against the goals of issue 3 (peak RSS <= 4 MiB, <= 0.2 ms CPU per heartbeat,
// <= 50 ms from start to the first heartbeat) and the binary's stripped size.
//
// usage: sidecar_footprint [HEARTBEATS=1000] [INTERVAL=10ms]
// It runs the built sidecar (the plain build, as for an http:// reaper URL) in exec mode
// against an in-process scripted endpoint.
// GCC 12 at -O2 reports "potential null pointer dereference" inside Asio's and
// libstdc++'s headers after inlining (false positives; -Werror would fail on them).
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "shared/duration.hpp"
#include "tests/sidecar/fake_lease_endpoint.hpp"
#include "tests/sidecar/sidecar_process.hpp"
#include "tests/support/wait.hpp"

using namespace lifeline::testing;
using namespace std::chrono_literals;

namespace {

// Nanoseconds the process has spent on a CPU (schedstat is exact; stat is in ticks).
double cpu_ms(pid_t pid) {
  std::ifstream sched("/proc/" + std::to_string(pid) + "/schedstat");
  unsigned long long ns = 0;
  if (sched >> ns) return static_cast<double>(ns) / 1e6;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream rest(s.substr(s.rfind(')') + 2));
  std::string f;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && rest >> f; ++i) {
    if (i == 14) ut = std::stoull(f);
    if (i == 15) st = std::stoull(f);
  }
  return static_cast<double>(ut + st) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  return -1;
}

long file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t beats = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
  std::string interval = argc > 2 ? argv[2] : "10ms";
  if (beats == 0 || !lifeline::parse_duration(interval)) {
    std::fprintf(stderr, "usage: sidecar_footprint [HEARTBEATS] [INTERVAL]\n");
    return 2;
  }
  FakeLeaseEndpoint reaper;

  // 1. Start to first heartbeat, over several starts (median).
  std::vector<double> first_ms;
  for (int i = 0; i < 15; ++i) {
    FakeLeaseEndpoint fresh;
    auto t0 = std::chrono::steady_clock::now();
    SidecarProcess sc({.reaper_url = fresh.url(), .flags = {"--interval", "1s"},
                       .command = shell("exit 0"), .log_prefix = "footprint-start"});
    if (!wait_until([&] { return fresh.heartbeat_count() > 0; }, 5s, 1ms)) {
      std::fprintf(stderr, "no heartbeat within 5s\n");
      return 1;
    }
    first_ms.push_back(std::chrono::duration<double, std::milli>(fresh.heartbeats()[0].received - t0).count());
    sc.process().wait_exit(5s);
  }
  std::sort(first_ms.begin(), first_ms.end());

  // 2. CPU per heartbeat and peak RSS over a long run at a short interval.
  SidecarProcess sc({.reaper_url = reaper.url(), .flags = {"--interval", interval, "--ttl", "30s", "--kill-grace", "1s"},
                     .command = shell("exec sleep 3600"), .log_prefix = "footprint-run"});
  pid_t pid = sc.process().pid();
  if (!wait_until([&] { return reaper.heartbeat_count() >= 20; }, 10s, 1ms)) {
    std::fprintf(stderr, "sidecar did not heartbeat\n");
    return 1;
  }
  // Touch every endpoint once so the health server's pages count in the peak too.
  for (const char* p : {"/healthz", "/readyz", "/status", "/metrics"}) (void)sc.get(p);
  std::size_t n0 = reaper.heartbeat_count();
  double c0 = cpu_ms(pid);
  if (!wait_until([&] { return reaper.heartbeat_count() >= n0 + beats; }, std::chrono::minutes(10), 1ms)) {
    std::fprintf(stderr, "heartbeats stalled\n");
    return 1;
  }
  double c1 = cpu_ms(pid);
  std::size_t n1 = reaper.heartbeat_count();
  long hwm = status_kib(pid, "VmHWM"), rss = status_kib(pid, "VmRSS");
  sc.process().signal(SIGTERM);
  sc.process().wait_exit(10s);

  // The plain build is the one measured above; the TLS build runs only for https:// URLs.
  auto stripped_size = [](const std::string& bin) {
    std::string tmp = "/tmp/lifeline-sidecar.stripped." + std::to_string(::getpid());
    long size = -1;
    if (std::system(("strip --strip-all -o " + tmp + " " + bin + " 2>/dev/null").c_str()) == 0) {
      size = file_size(tmp);
      std::remove(tmp.c_str());
    }
    return size;
  };
  const std::string bin = bin_path("lifeline-sidecar"), tls_bin = bin_path("lifeline-sidecar-tls");

  double per_beat = (c1 - c0) / static_cast<double>(n1 - n0);
  double median_first = first_ms[first_ms.size() / 2];
  std::printf("lifeline-sidecar footprint (exec mode, %zu heartbeats at %s)\n", n1 - n0, interval.c_str());
  std::printf("  peak RSS (VmHWM)          %6.2f MiB   (VmRSS at end %.2f MiB)   goal <= 4 MiB   %s\n",
              static_cast<double>(hwm) / 1024.0, static_cast<double>(rss) / 1024.0, hwm <= 4096 ? "ok" : "MISSED");
  std::printf("  CPU per heartbeat         %6.3f ms                              goal <= 0.2 ms  %s\n", per_beat,
              per_beat <= 0.2 ? "ok" : "MISSED");
  std::printf("  start to first heartbeat  %6.2f ms median (min %.2f, max %.2f)   goal <= 50 ms   %s\n",
              median_first, first_ms.front(), first_ms.back(), median_first <= 50 ? "ok" : "MISSED");
  std::printf("  binary size               %6.2f MiB, stripped %.2f MiB (lifeline-sidecar-tls: %.2f, stripped %.2f)\n",
              static_cast<double>(file_size(bin)) / 1048576.0, static_cast<double>(stripped_size(bin)) / 1048576.0,
              static_cast<double>(file_size(tls_bin)) / 1048576.0, static_cast<double>(stripped_size(tls_bin)) / 1048576.0);
  return 0;
}
