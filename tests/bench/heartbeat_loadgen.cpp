// heartbeat_loadgen: many simulated lifeline sidecars, one keep-alive connection each,
// renewing leases against a heartbeat endpoint at a set total rate (open loop) or as fast
// as answers come (closed loop). Prints latency quantiles, status codes, errors, its own
// CPU use and (with --watch) the server's, then one machine-readable RESULT line.
//
// Connections are split over worker processes (each one thread, one io_context): a
// process may hold only RLIMIT_NOFILE descriptors, so 20,000 connections need two.
// Workers start their schedules at one CLOCK_MONOTONIC instant handed out by the parent.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/load_options.hpp"
#include "tests/bench/load_worker.hpp"
#include "tests/bench/process_watch.hpp"
#include "tests/bench/worker_result.hpp"

namespace bench = lifeline::bench;
using Clock = bench::LoadWorker::Clock;

namespace {

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

std::size_t fd_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  return static_cast<std::size_t>(rl.rlim_cur);
}

bool write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads from fd until `terminator` ends what was read (or EOF).
std::string read_until(int fd, const std::string& terminator) {
  std::string out;
  char buf[4096];
  while (out.size() < terminator.size() || out.compare(out.size() - terminator.size(), terminator.size(), terminator) != 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

struct Child {
  pid_t pid = -1;
  int to_child = -1;
  int from_child = -1;
};

[[noreturn]] void child_main(const bench::LoadOptions& o, std::size_t first, std::size_t last, std::uint32_t tag,
                             int in_fd, int out_fd) {
  bench::LoadWorker worker(o, first, last, tag);
  worker.connect_all();
  write_all(out_fd, "ready " + std::to_string(worker.connected()) + "\n");
  std::string start = read_until(in_fd, "\n");
  long long ns = 0;
  if (std::sscanf(start.c_str(), "start %lld", &ns) != 1) _exit(3);
  auto t0 = Clock::time_point(std::chrono::nanoseconds(ns));
  bench::WorkerResult r = worker.run(t0);
  write_all(out_fd, r.serialize());
  _exit(0);
}

double ms(std::uint64_t micros) { return static_cast<double>(micros) / 1000.0; }

}  // namespace

int main(int argc, char** argv) {
  std::string message;
  auto parsed = bench::parse_load_options(argc, argv, message);
  if (!parsed) {
    std::cerr << message;
    return message.rfind("heartbeat_loadgen:", 0) == 0 ? 0 : 2;
  }
  bench::LoadOptions o = *parsed;
  raise_fd_limit();
  const std::size_t per_worker = (o.connections + o.workers - 1) / o.workers;
  if (per_worker + 64 > fd_limit()) {
    std::cerr << "heartbeat_loadgen: " << per_worker << " connections per worker exceed the descriptor limit ("
              << fd_limit() << "); use more --workers\n";
    return 2;
  }
  const std::uint32_t tag = o.tag ? *o.tag : static_cast<std::uint32_t>(std::random_device{}());

  const auto connect_start = Clock::now();
  std::vector<Child> children;
  for (std::size_t w = 0; w < o.workers; ++w) {
    std::size_t first = w * per_worker;
    std::size_t last = std::min(o.connections, first + per_worker);
    if (first >= last) break;
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) {
      std::perror("pipe");
      return 1;
    }
    std::cout.flush();
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (pid == 0) {
      for (const auto& c : children) {
        close(c.to_child);
        close(c.from_child);
      }
      close(down[1]);
      close(up[0]);
      child_main(o, first, last, tag, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    children.push_back(Child{pid, down[1], up[0]});
  }

  std::uint64_t connected = 0;
  for (auto& c : children) {
    std::string ready = read_until(c.from_child, "\n");
    unsigned long long n = 0;
    if (std::sscanf(ready.c_str(), "ready %llu", &n) == 1) connected += n;
  }
  const double connect_seconds = std::chrono::duration<double>(Clock::now() - connect_start).count();
  const auto t0 = Clock::now() + std::chrono::milliseconds(300);
  const auto measure_start =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_seconds));
  const auto measure_end =
      measure_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_seconds));
  for (auto& c : children)
    write_all(c.to_child, "start " + std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                        t0.time_since_epoch())
                                                        .count()) +
                              "\n");

  // The parent only samples: the servers' CPU at the window's edges, RSS at its end.
  std::vector<double> watch_cpu(o.watch.size(), 0.0);
  std::vector<std::int64_t> watch_rss(o.watch.size(), -1);
  std::this_thread::sleep_until(measure_start);
  for (std::size_t i = 0; i < o.watch.size(); ++i) watch_cpu[i] = bench::tree_cpu_seconds(o.watch[i].second);
  const double load_at_start = bench::load_average();
  std::this_thread::sleep_until(measure_end);
  for (std::size_t i = 0; i < o.watch.size(); ++i) {
    watch_cpu[i] = bench::tree_cpu_seconds(o.watch[i].second) - watch_cpu[i];
    watch_rss[i] = bench::rss_kib(o.watch[i].second);
  }

  bench::WorkerResult total;
  bool all_reported = true;
  for (auto& c : children) {
    bench::WorkerResult r;
    if (r.parse(read_until(c.from_child, "end\n"))) total.merge(r);
    else all_reported = false;
    int status = 0;
    waitpid(c.pid, &status, 0);
    close(c.to_child);
    close(c.from_child);
  }
  total.connected = connected;

  const double window = o.duration_seconds;
  // Throughput counts answers received inside the window: under overload, answers to the
  // window's requests keep arriving long after it, and counting them would flatter.
  const double ok_rate = static_cast<double>(total.ok_in_window) / window;
  const auto& h = total.latency;
  std::ostringstream codes, errors;
  for (const auto& [k, v] : total.status) codes << (codes.tellp() > 0 ? "," : "") << k << ':' << v;
  for (const auto& [k, v] : total.errors) errors << (errors.tellp() > 0 ? "," : "") << k << ':' << v;
  const std::string codes_s = codes.str().empty() ? "none" : codes.str();
  const std::string errors_s = errors.str().empty() ? "none" : errors.str();

  std::printf("heartbeat_loadgen %s: %zu connections (%zu workers, %zu lease(s) each), %s, warm-up %.1f s, window %.1f s\n",
              o.label.c_str(), o.connections, children.size(), o.leases_per_connection,
              o.rate > 0 ? ("open loop " + std::to_string(static_cast<long long>(o.rate)) + "/s").c_str()
                         : "closed loop",
              o.warmup_seconds, window);
  std::printf("  connected %llu/%zu in %.1f s (each with a first heartbeat), open at window end %llu, reconnects %llu\n",
              static_cast<unsigned long long>(total.connected), o.connections, connect_seconds,
              static_cast<unsigned long long>(total.open_at_end), static_cast<unsigned long long>(total.reconnects));
  std::printf("  sent %llu, answered %llu (%s), errors %s; 2xx received in the window %.0f/s\n", static_cast<unsigned long long>(total.sent),
              static_cast<unsigned long long>(total.answered()), codes_s.c_str(), errors_s.c_str(), ok_rate);
  std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n", ms(h.quantile(0.5)),
              ms(h.quantile(0.9)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()), h.mean() / 1000.0);
  std::printf("  load generator CPU %.2f cores in the window (%.1f us per request), late sends %llu, load %.2f\n",
              total.cpu_seconds / window,
              total.sent > 0 ? total.cpu_seconds * 1e6 / static_cast<double>(total.sent) : 0.0,
              static_cast<unsigned long long>(total.late_sends), load_at_start);
  for (std::size_t i = 0; i < o.watch.size(); ++i) {
    // A process gone by the window's end, or a tree that lost a process (its CPU time
    // leaves the sum), has no meaningful CPU figure for the window.
    if (watch_rss[i] < 0) {
      std::printf("  %s (pid %d): exited before the window ended\n", o.watch[i].first.c_str(), o.watch[i].second);
      continue;
    }
    if (watch_cpu[i] < 0) {
      std::printf("  %s (pid %d): CPU unknown (a process of its tree exited in the window), RSS %.1f MiB\n",
                  o.watch[i].first.c_str(), o.watch[i].second, static_cast<double>(watch_rss[i]) / 1024.0);
      continue;
    }
    std::printf("  %s (pid %d): CPU %.2f cores in the window (%.1f us per answer), RSS %.1f MiB\n",
                o.watch[i].first.c_str(), o.watch[i].second, watch_cpu[i] / window,
                total.ok_in_window > 0 ? watch_cpu[i] * 1e6 / static_cast<double>(total.ok_in_window) : 0.0,
                static_cast<double>(watch_rss[i]) / 1024.0);
  }

  std::printf("RESULT label=%s connections=%zu connected=%llu open_at_end=%llu rate_target=%.0f ok_per_s=%.0f "
              "connect_s=%.2f sent=%llu answered=%llu codes=%s errors=%s p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
              "max_ms=%.3f mean_ms=%.3f loadgen_cores=%.3f loadgen_us_per_request=%.1f late_sends=%llu load1=%.2f",
              o.label.c_str(), o.connections, static_cast<unsigned long long>(total.connected),
              static_cast<unsigned long long>(total.open_at_end), o.rate, ok_rate, connect_seconds,
              static_cast<unsigned long long>(total.sent), static_cast<unsigned long long>(total.answered()),
              codes_s.c_str(), errors_s.c_str(), ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)),
              ms(h.quantile(0.999)), ms(h.max()), h.mean() / 1000.0, total.cpu_seconds / window,
              total.sent > 0 ? total.cpu_seconds * 1e6 / static_cast<double>(total.sent) : 0.0,
              static_cast<unsigned long long>(total.late_sends), load_at_start);
  for (std::size_t i = 0; i < o.watch.size(); ++i) {
    const char* name = o.watch[i].first.c_str();
    // As above: no figure for a process that exited, or a tree that lost one ("n/a").
    if (watch_rss[i] < 0 || watch_cpu[i] < 0) std::printf(" %s_cores=n/a %s_us_per_answer=n/a", name, name);
    else
      std::printf(" %s_cores=%.3f %s_us_per_answer=%.1f", name, watch_cpu[i] / window, name,
                  total.ok_in_window > 0 ? watch_cpu[i] * 1e6 / static_cast<double>(total.ok_in_window) : 0.0);
    if (watch_rss[i] < 0) std::printf(" %s_rss_kib=n/a", name);
    else std::printf(" %s_rss_kib=%lld", name, static_cast<long long>(watch_rss[i]));
  }
  std::printf("\n");
  if (!all_reported) std::fprintf(stderr, "heartbeat_loadgen: a worker did not report\n");
  return total.connected > 0 && all_reported ? 0 : 1;
}
