#pragma once
// The requests a sidecar sends, formatted straight into a reusable buffer: the renewal
// PUT /v1/leases/{run_id} and the release POST of the contract. Run ids are UUIDs made
// from (tag, index), so a driver can create the same runs in the fake Prefect and two
// benchmark runs against one database never collide (different tags).
// Thread-safety: immutable after construction; format calls are const.

#include <cstdint>
#include <string>
#include <string_view>

namespace lifeline::bench {

struct SimulatedSidecar {
  std::string run_id;
  std::string holder;  // the pod name
  std::string node;
};

// A version-4-shaped UUID determined by `tag` and `index`.
std::string bench_run_id(std::uint32_t tag, std::uint64_t index);
// The sidecar with that index (holder "bench-<tag>-<index>", one of 64 nodes).
SimulatedSidecar bench_sidecar(std::uint32_t tag, std::uint64_t index);

class HeartbeatRequests {
 public:
  // `token` empty: no Authorization header.
  HeartbeatRequests(std::string host, std::string token, int ttl_seconds);

  void renew(std::string& out, const SimulatedSidecar& s, std::int64_t seq, std::string_view phase = "running") const;
  void release(std::string& out, const SimulatedSidecar& s, std::string_view outcome, int exit_code) const;

 private:
  void head(std::string& out, std::string_view method, std::string_view path_prefix, const SimulatedSidecar& s,
            std::string_view path_suffix, std::size_t body_size) const;
  std::string host_;
  std::string auth_line_;
  int ttl_seconds_;
};

}  // namespace lifeline::bench
