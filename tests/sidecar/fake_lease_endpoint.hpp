#pragma once
// A scripted stand-in for the reaper's heartbeat API, for sidecar tests: answers
// PUT /v1/leases/{id} and POST .../release as the test says (renew, stop, 409, 503, or
// hang), and records every call. Runs the shared asynchronous HTTP server on its own
// thread on 127.0.0.1 port 0.
// Thread-safety: every public method may be called from any thread.

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lifeline::testing {

class FakeLeaseEndpoint {
 public:
  enum class Answer { renew, stop, conflict, unavailable, hang };

  struct Call {
    std::string method;
    std::string path;
    std::string authorization;
    nlohmann::json body;
    std::chrono::steady_clock::time_point received;
    int status = 0;  // what was answered (0 while hanging)
  };

  FakeLeaseEndpoint();
  ~FakeLeaseEndpoint();
  FakeLeaseEndpoint(const FakeLeaseEndpoint&) = delete;
  FakeLeaseEndpoint& operator=(const FakeLeaseEndpoint&) = delete;

  std::uint16_t port() const;
  std::string url() const;

  // How heartbeats are answered from now on. `reason` goes with stop.
  void set_answer(Answer a, std::string reason = "run was cancelled");
  // TTL granted in answers; 0 (default) grants what was asked.
  void set_granted_ttl_seconds(int ttl);
  // Delay before every answer (a slow reaper).
  void set_delay(std::chrono::milliseconds d);

  std::vector<Call> calls() const;
  std::vector<Call> heartbeats() const;  // PUTs
  std::vector<Call> releases() const;    // POST .../release
  std::size_t heartbeat_count() const;
  // Receive time of the last heartbeat answered 200 with directive continue.
  std::optional<std::chrono::steady_clock::time_point> last_renewal() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeline::testing
