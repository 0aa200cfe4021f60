#include "tests/bench/load_options.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace lifeline::bench {
namespace {

constexpr const char* kUsage = R"(heartbeat_loadgen: simulated lifeline sidecars against a heartbeat endpoint.

  --port N                 server port on --host (required)
  --host ADDR              server address (default 127.0.0.1)
  --connections N          keep-alive connections, one per simulated sidecar (default 100)
  --leases-per-connection N  leases each connection renews in turn (default 1)
  --rate R                 total requests per second, open loop (latency counted from the
                           intended send time); 0 = closed loop, as fast as answers come
  --tick-us N              open loop: send times on a grid of N us (default 1000; 1 = exact)
  --warmup S               seconds before measuring (default 2)
  --duration S             seconds measured (default 10)
  --timeout S              round trip abort time (default 10)
  --ttl N                  ttl_seconds in each renewal (default 30)
  --token T | --token-file F   bearer token
  --workers N              worker processes, each one thread (default: 1 per 15000 connections)
  --connect-concurrency N  connects in flight per worker (default 256)
  --source-addresses N     spread connections over N loopback source addresses (default 1)
  --tag HEX                run-id tag (default random)
  --label NAME             name in the RESULT line
  --watch NAME=PID         report CPU (PID and its descendants) and RSS of PID during the window
)";

bool need(int i, int argc, const std::string& flag, std::string& message) {
  if (i + 1 < argc) return true;
  message = "missing value for " + flag;
  return false;
}

}  // namespace

std::optional<LoadOptions> parse_load_options(int argc, char** argv, std::string& message) {
  LoadOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v;
    if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0 && a != "--watch") {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (a == "--help" || a == "-h") {
      message = kUsage;
      return std::nullopt;
    } else {
      if (!need(i, argc, a, message)) return std::nullopt;
      v = argv[++i];
    }
    try {
      if (a == "--port") o.port = static_cast<std::uint16_t>(std::stoul(v));
      else if (a == "--host") o.host = v;
      else if (a == "--connections") o.connections = std::stoul(v);
      else if (a == "--leases-per-connection") o.leases_per_connection = std::max<std::size_t>(1, std::stoul(v));
      else if (a == "--rate") o.rate = std::stod(v);
      else if (a == "--tick-us") o.tick_us = std::max<std::int64_t>(1, std::stoll(v));
      else if (a == "--warmup") o.warmup_seconds = std::stod(v);
      else if (a == "--duration") o.duration_seconds = std::stod(v);
      else if (a == "--timeout") o.timeout_seconds = std::stod(v);
      else if (a == "--ttl") o.ttl_seconds = std::stoi(v);
      else if (a == "--token") o.token = v;
      else if (a == "--token-file") {
        std::ifstream f(v);
        if (!f) {
          message = "cannot read token file " + v;
          return std::nullopt;
        }
        std::getline(f, o.token);
      } else if (a == "--workers") o.workers = std::stoul(v);
      else if (a == "--connect-concurrency") o.connect_concurrency = std::max<std::size_t>(1, std::stoul(v));
      else if (a == "--source-addresses") o.source_addresses = std::clamp<std::size_t>(std::stoul(v), 1, 250);
      else if (a == "--tag") o.tag = static_cast<std::uint32_t>(std::stoul(v, nullptr, 16));
      else if (a == "--label") o.label = v;
      else if (a == "--watch") {
        auto eq = v.find('=');
        if (eq == std::string::npos) {
          message = "--watch wants NAME=PID";
          return std::nullopt;
        }
        o.watch.emplace_back(v.substr(0, eq), std::stoi(v.substr(eq + 1)));
      } else {
        message = "unknown option " + a + "\n" + kUsage;
        return std::nullopt;
      }
    } catch (const std::exception&) {
      message = "bad value for " + a + ": " + v;
      return std::nullopt;
    }
  }
  if (o.port == 0) {
    message = std::string("--port is required\n") + kUsage;
    return std::nullopt;
  }
  if (o.connections == 0 || o.duration_seconds <= 0 || o.rate < 0 || o.warmup_seconds < 0) {
    message = "connections and duration must be positive, rate and warmup not negative";
    return std::nullopt;
  }
  if (o.workers == 0) o.workers = (o.connections + 14'999) / 15'000;
  o.workers = std::min(o.workers, o.connections);
  return o;
}

}  // namespace lifeline::bench
