#pragma once
// The reaper's validated configuration (the TOML file of the contract), parsed once;
// business code reads these structs, never TOML keys.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/address.hpp"
#include "shared/duration.hpp"

namespace lifeline::reaper {

struct ServerConfig {
  HostPort listen{"0.0.0.0", 8080};
  std::string token_file;        // empty: no auth
  std::string token;             // read from token_file at load time (never logged)
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_connections = 100'000;
  Duration idle_timeout{75'000};
  // A request's headers must arrive within it of their first byte, its body within it again.
  Duration request_timeout{10'000};
  // Both set: the heartbeat API (the whole listener) speaks TLS only. Paths are resolved
  // against the configuration file's directory; check-config loads them.
  std::string tls_cert_file;     // PEM: the server certificate, then intermediates
  std::string tls_key_file;      // PEM private key (never logged)
  // Threads serving the API, each its own event loop accepting on the one listening socket:
  // one thread tops out near one core's worth of heartbeats.
  std::size_t api_threads = 2;
};

struct DatabaseConfig {
  std::string url = "postgresql://lifeline@127.0.0.1:5432/lifeline";
  std::string url_file;          // alternative to url: a file holding it (a mounted Secret)
  std::size_t pool_size = 4;     // connections for the reap pipeline
  Duration flush_window{2};      // group commit: gather heartbeats for at most this long
  std::size_t max_batch = 2000;  // group commit: at most this many heartbeats per round trip
  Duration commit_timeout{5'000};   // a heartbeat not durable by then is answered 503
  std::size_t max_pending = 100'000;  // heartbeats queued for the store beyond it: 503 at once
};

struct PrefectConfig {
  std::string api_url = "http://127.0.0.1:4200/api";
  std::string api_key_file;      // Prefect Cloud: Authorization: Bearer
  std::string auth_string_file;  // self-hosted with PREFECT_SERVER_API_AUTH_STRING: Basic
  std::string api_key;           // loaded from the files (never logged)
  std::string auth_string;
  Duration timeout{10'000};
  std::size_t max_in_flight = 16;
  bool emit_events = false;      // mirror decisions to Prefect as events (POST /events)
};

struct LeasesConfig {
  Duration min_ttl{5'000};
  Duration max_ttl{600'000};
  Duration completion_grace{60'000};
};

struct RetryConfig {
  int max_attempts = 3;
  Duration delay{10'000};
  Duration max_delay{300'000};
  double multiplier = 2.0;
  double jitter = 0.1;
};

struct ReaperLoopConfig {
  Duration interval{1'000};
  std::size_t batch_size = 500;
  Duration orphan_grace{120'000};     // 0 disables the orphan sweep
  std::vector<std::string> work_pools;  // empty: all
  bool dry_run = false;
  Duration claim_timeout{60'000};     // a replica's claim on a dead run lapses after this
  Duration status_refresh{10'000};    // the heartbeat API's view of a run's Prefect state is at most this old
  // Finished jobs, audit rows, completion checks and finished leases older than this are
  // deleted (0: kept forever). Must exceed leases.max_ttl and leases.completion_grace.
  Duration retention{7LL * 24 * 3600 * 1000};
};

// A [[policy]] override: the first whose matchers all match a run wins.
struct Policy {
  std::optional<std::string> work_pool;
  std::optional<std::string> deployment;   // glob on the deployment name
  std::vector<std::string> tags;           // all must be present on the run
  // Overrides (unset = take [retry] / [reaper]).
  std::optional<int> max_attempts;
  std::optional<Duration> delay;
  std::optional<Duration> max_delay;
  std::optional<double> multiplier;
  std::optional<double> jitter;
  std::optional<Duration> orphan_grace;
  int line = 0;  // where it was defined, for logs
};

struct Config {
  ServerConfig server;
  DatabaseConfig database;
  PrefectConfig prefect;
  LeasesConfig leases;
  ReaperLoopConfig reaper;
  RetryConfig retry;
  std::vector<Policy> policies;
  std::string source_path;
};

}  // namespace lifeline::reaper
