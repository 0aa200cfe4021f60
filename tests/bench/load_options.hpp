#pragma once
// The load generator's settings and their command line.
// Thread-safety: a plain value.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lifeline::bench {

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t connections = 100;          // simulated sidecars, one keep-alive connection each
  std::size_t leases_per_connection = 1;  // >1: each connection renews several leases in turn
  double rate = 0;                        // total requests/s (open loop); 0 = as fast as possible (closed loop)
  double warmup_seconds = 2;
  double duration_seconds = 10;
  std::int64_t tick_us = 1000;            // open loop: send times rounded up to this grid
  double timeout_seconds = 10;            // a round trip older than this is aborted and counted
  int ttl_seconds = 30;
  std::string token;                      // bearer token (or read from token_file)
  std::size_t workers = 0;                // worker processes; 0 = one per 15,000 connections
  std::size_t connect_concurrency = 256;  // connects in flight per worker
  std::size_t source_addresses = 1;       // spread connections over 127.0.0.1, .2, ... (port space)
  std::optional<std::uint32_t> tag;       // run-id tag; random when unset
  std::string label = "loadgen";          // name in the summary line
  std::vector<std::pair<std::string, int>> watch;  // label=pid: CPU (process tree) and RSS in the window
};

// Parses argv; on error or --help returns nullopt and writes the message to `message`.
std::optional<LoadOptions> parse_load_options(int argc, char** argv, std::string& message);

}  // namespace lifeline::bench
