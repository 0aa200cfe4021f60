#pragma once
// The sidecar: wires the lease keeper, the fence, the workload and the health port on
// one io_context, and turns their events into the contract's behaviour (fencing, stop
// directive, eviction, release, exit status).
//
// Threading: everything runs on the one thread that calls run(). Four timers (heartbeat
// schedule inside LeaseKeeper, fence deadline, kill grace, linger after a stop) and the
// asynchronous client share it, so no blocking call stands between the clock and a stop: a
// reaper that never answers only delays its own request, never the fence timer.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "shared/clock.hpp"
#include "shared/log.hpp"
#include "sidecar/health_server.hpp"
#include "sidecar/heartbeat_client.hpp"
#include "sidecar/lease_keeper.hpp"
#include "sidecar/metrics.hpp"
#include "sidecar/options.hpp"
#include "sidecar/outcome.hpp"
#include "sidecar/workload/exec_workload.hpp"
#include "sidecar/workload/proc_watcher.hpp"

namespace lifeline::sidecar {

class App {
 public:
  // `log` should already carry the run id. `proc_root` is "/proc" outside tests.
  // `tls` carries an https:// reaper URL's TLS (null for http://).
  App(boost::asio::io_context& io, const Clock& clock, Options options, std::string bearer_token,
      std::unique_ptr<TlsLayer> tls, const Logger& log, std::string proc_root = "/proc");
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Runs until the lease is released (or the workload's end is handled); returns the
  // process exit status.
  int run();

 private:
  void wait_signal();
  void on_signal(int sig);
  void on_renewed(const LeaseView& v);
  void on_stop_directive(const std::string& reason);
  void arm_fence(SteadyTime deadline);
  void on_fence();
  void start_exec();
  void on_found(const std::vector<pid_t>& pids);
  void on_workload_exit(WorkloadExit exit);
  void stop_workload(StopCause cause, const std::string& why);
  void finish();
  void on_released();
  void shutdown();
  bool workload_running() const;
  HealthSnapshot snapshot() const;

  boost::asio::io_context& io_;
  const Clock& clock_;
  Options opt_;
  Logger log_;
  std::string proc_root_;
  SidecarMetrics metrics_;
  HeartbeatClient client_;
  LeaseKeeper keeper_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer fence_timer_;
  boost::asio::steady_timer kill_timer_;
  boost::asio::steady_timer linger_timer_;
  HealthServer health_;
  std::unique_ptr<ExecWorkload> exec_;
  std::unique_ptr<ProcWatcher> watcher_;
  Workload* workload_ = nullptr;
  SteadyTime fence_deadline_{};
  bool lapsed_ = false;     // the fence deadline passed without a renewal
  bool stopping_ = false;   // SIGTERM (and later SIGKILL) sent by us
  bool finishing_ = false;  // release requested
  bool lingering_ = false;  // released; exiting after --linger-after-stop or --await-sigterm
  bool terminate_received_ = false;  // SIGTERM or SIGINT at any point: no linger, no wait
  bool done_ = false;
  Ending ending_;
  int exit_status_ = 1;
};

}  // namespace lifeline::sidecar
