#include "tests/bench/worker_result.hpp"

#include <algorithm>
#include <sstream>

namespace lifeline::bench {

std::uint64_t WorkerResult::answered() const {
  std::uint64_t n = 0;
  for (const auto& [code, count] : status) n += count;
  return n;
}

std::uint64_t WorkerResult::ok() const {
  std::uint64_t n = 0;
  for (const auto& [code, count] : status)
    if (code >= 200 && code < 300) n += count;
  return n;
}

void WorkerResult::merge(const WorkerResult& o) {
  connections += o.connections;
  connected += o.connected;
  connect_failures += o.connect_failures;
  open_at_end += o.open_at_end;
  reconnects += o.reconnects;
  sent += o.sent;
  late_sends += o.late_sends;
  ok_in_window += o.ok_in_window;
  for (const auto& [k, v] : o.status) status[k] += v;
  for (const auto& [k, v] : o.errors) errors[k] += v;
  latency.merge(o.latency);
  cpu_seconds += o.cpu_seconds;
  window_seconds = std::max(window_seconds, o.window_seconds);
}

std::string WorkerResult::serialize() const {
  std::ostringstream out;
  out << "counters " << connections << ' ' << connected << ' ' << connect_failures << ' ' << open_at_end << ' '
      << reconnects << ' ' << sent << ' ' << late_sends << ' ' << ok_in_window << ' ' << cpu_seconds << ' '
      << window_seconds << '\n';
  for (const auto& [k, v] : status) out << "status " << k << ' ' << v << '\n';
  for (const auto& [k, v] : errors) out << "error " << k << ' ' << v << '\n';
  out << "latency " << latency.serialize() << '\n';
  out << "end\n";
  return out.str();
}

bool WorkerResult::parse(const std::string& text) {
  *this = WorkerResult{};
  std::istringstream in(text);
  std::string line;
  bool ended = false;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string kind;
    l >> kind;
    if (kind == "counters") {
      l >> connections >> connected >> connect_failures >> open_at_end >> reconnects >> sent >> late_sends >>
          ok_in_window >> cpu_seconds >> window_seconds;
      if (!l) return false;
    } else if (kind == "status") {
      int code = 0;
      std::uint64_t n = 0;
      if (!(l >> code >> n)) return false;
      status[code] += n;
    } else if (kind == "error") {
      std::string k;
      std::uint64_t n = 0;
      if (!(l >> k >> n)) return false;
      errors[k] += n;
    } else if (kind == "latency") {
      std::string rest;
      std::getline(l, rest);
      if (!latency.parse(rest)) return false;
    } else if (kind == "end") {
      ended = true;
    }
  }
  return ended;
}

}  // namespace lifeline::bench
