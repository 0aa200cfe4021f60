#pragma once
// A TCP proxy for fault-injection tests: listens on 127.0.0.1 (port 0) and forwards to a
// target, or black-holes (accepts and keeps connections open but forwards nothing, so
// the peer's requests hang), or refuses (stops listening and resets every connection; the
// port stays bound meanwhile, so connections are refused and no other socket can take it).
// Mode changes apply to connections already open, so a keep-alive client is caught too.
// Thread-safety: the proxy runs on its own thread; every public method may be called
// from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace lifeline::testing {

class TcpProxy {
 public:
  enum class Mode { forward, black_hole, refuse };

  TcpProxy(std::string target_host, std::uint16_t target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"
  void set_mode(Mode mode);
  Mode mode() const;
  std::uint64_t connections_accepted() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeline::testing
