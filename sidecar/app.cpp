#include "sidecar/app.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>

#include "sidecar/fencing.hpp"
#include "sidecar/workload/child_reaper.hpp"

namespace lifeline::sidecar {

namespace asio = boost::asio;

namespace {
LeaseSettings lease_settings(const Options& o) {
  return LeaseSettings{o.run_id,   o.holder, o.node,       o.reaper_url.base_path, o.interval,
                       o.ttl,      o.kill_grace,           o.request_timeout()};
}
const char* signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGCHLD: return "SIGCHLD";
    case SIGKILL: return "SIGKILL";
    default: return "signal";
  }
}
}  // namespace

App::App(asio::io_context& io, const Clock& clock, Options options, std::string bearer_token,
         std::unique_ptr<TlsLayer> tls, const Logger& log, std::string proc_root)
    : io_(io),
      clock_(clock),
      opt_(std::move(options)),
      log_(log),
      proc_root_(std::move(proc_root)),
      client_(io, opt_.reaper_url, std::move(bearer_token), std::move(tls)),
      keeper_(io, clock, client_, lease_settings(opt_), metrics_, log_,
              LeaseKeeper::Callbacks{[this](const LeaseView& v) { on_renewed(v); },
                                     [this](const std::string& r) { on_stop_directive(r); },
                                     [this] { on_released(); }}),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      fence_timer_(io),
      kill_timer_(io),
      linger_timer_(io),
      health_(io, [this] { return snapshot(); }, metrics_, log_) {
  // Installed before any child exists, so no SIGCHLD is ever missed.
  signals_.add(SIGUSR1);
  signals_.add(SIGUSR2);
  signals_.add(SIGCHLD);
  ending_.verb = opt_.verb;
  ending_.started = false;
}

App::~App() = default;

int App::run() {
  auto port = health_.listen(opt_.listen);
  if (!port) {
    log_.error("cannot serve health port", {{"error", port.error().message}});
    return 2;
  }
  log_.info("listening", {{"address", opt_.listen.host}, {"port", static_cast<int>(*port)}});
  log_.info("starting", {{"mode", opt_.verb == Verb::exec ? "exec" : "run"},
                         {"reaper", opt_.reaper_url_text},
                         {"holder", opt_.holder},
                         {"interval", format_duration(opt_.interval)},
                         {"ttl", format_duration(opt_.ttl)},
                         {"kill_grace", format_duration(opt_.kill_grace)},
                         {"fencing", opt_.on_unreachable == OnUnreachable::stop ? "on" : "off"}});
  if (opt_.on_unreachable == OnUnreachable::keep_running)
    log_.warn("FENCING IS OFF (--on-unreachable continue): the workload keeps running when the reaper "
              "cannot be reached, and may still run after the reaper declared the run dead");
  wait_signal();
  // Until the first acknowledgement the lease is as good as one acknowledged right now.
  arm_fence(clock_.steady_now() + fencing::stop_budget(opt_.ttl, opt_.kill_grace));
  asio::co_spawn(io_, keeper_.run(), [this](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_.error("heartbeat loop failed", {{"error", ex.what()}});
    }
    shutdown();
  });
  if (opt_.verb == Verb::run) {
    if (opt_.target.kind == TargetSpec::Kind::none) {
      ending_.started = true;  // nothing to watch: the sidecar lives until it is told to stop
    } else {
      watcher_ = std::make_unique<ProcWatcher>(
          io_, clock_, opt_.target, opt_.start_timeout, proc_root_, ::getpid(), log_,
          ProcWatcher::Callbacks{[this](const std::vector<pid_t>& p) { on_found(p); },
                                 [this](WorkloadExit e) { on_workload_exit(e); },
                                 [this] {
                                   log_.error("workload did not appear in time",
                                              {{"start_timeout", format_duration(opt_.start_timeout)},
                                               {"hint", "check --target; auto needs shareProcessNamespace: true"}});
                                   ending_.workload_code = 127;
                                   exit_status_ = 2;
                                   finish();
                                 }});
      watcher_->start();
    }
  }
  io_.run();
  return exit_status_;
}

bool App::workload_running() const { return workload_ != nullptr && workload_->running(); }

void App::wait_signal() {
  signals_.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    on_signal(sig);
    if (!done_) wait_signal();
  });
}

void App::on_signal(int sig) {
  if (sig == SIGCHLD) {
    bool pid1 = ::getpid() == 1;
    if (exec_) exec_->on_sigchld(pid1);
    else if (pid1) (void)reap_children(0, true);
    return;
  }
  log_.info("signal received", {{"signal", signal_name(sig)}});
  bool terminate = sig == SIGTERM || sig == SIGINT;
  if (exec_ && exec_->running()) exec_->signal(sig);  // exec mode forwards all five
  if (!terminate) return;
  terminate_received_ = true;
  if (lingering_) {
    shutdown();  // the pod is going away: the linger was only for a scrape
    return;
  }
  if (workload_running()) {
    // Eviction, scale-down or deletion: tell the reaper now, keep the lease while the
    // workload shuts down, release as evicted once it is gone.
    if (!ending_.terminating) {
      ending_.terminating = true;
      keeper_.terminating();
    }
    return;
  }
  if (finishing_) return;
  if (opt_.verb == Verb::exec) ending_.terminating = true;  // never started: the pod is going away
  finish();
}

void App::on_renewed(const LeaseView& v) {
  lapsed_ = false;
  arm_fence(fencing::stop_deadline(*v.last_ack_sent, v.granted_ttl, opt_.kill_grace));
  if (opt_.verb == Verb::exec && !exec_ && !finishing_) start_exec();
}

void App::start_exec() {
  exec_ = std::make_unique<ExecWorkload>(opt_.command, [this](WorkloadExit e) { on_workload_exit(e); });
  auto pid = exec_->start();
  ending_.started = true;
  if (!pid) {
    log_.error("cannot start the workload", {{"error", pid.error().message}});
    ending_.workload_code = 127;
    finish();
    return;
  }
  workload_ = exec_.get();
  log_.info("workload started", {{"pid", *pid}, {"command", opt_.command.front()}});
}

void App::on_found(const std::vector<pid_t>& pids) {
  workload_ = watcher_.get();
  ending_.started = true;
  std::string list;
  for (pid_t p : pids) list += (list.empty() ? "" : ",") + std::to_string(p);
  log_.info("workload found", {{"pids", list}, {"pidfd", watcher_->using_pidfd()}});
  if (lapsed_ && opt_.on_unreachable == OnUnreachable::stop)
    stop_workload(StopCause::unreachable, "the lease lapsed before the workload appeared");
  else if (ending_.cause != StopCause::none)
    stop_workload(ending_.cause, "the reaper said stop before the workload appeared");
}

void App::on_stop_directive(const std::string& reason) {
  if (ending_.cause == StopCause::none) ending_.cause = StopCause::stop_directive;
  if (workload_running()) {
    stop_workload(StopCause::stop_directive, reason);
  } else if (opt_.verb == Verb::exec || opt_.target.kind == TargetSpec::Kind::none) {
    finish();
  }
}

void App::arm_fence(SteadyTime deadline) {
  fence_deadline_ = deadline;
  fence_timer_.expires_at(deadline);
  fence_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) on_fence();
  });
}

void App::on_fence() {
  if (finishing_ || stopping_) return;
  lapsed_ = true;
  auto since = std::chrono::duration_cast<Duration>(clock_.steady_now() - fence_deadline_) +
               fencing::stop_budget(keeper_.view().granted_ttl.count() ? keeper_.view().granted_ttl : opt_.ttl,
                                    opt_.kill_grace);
  if (opt_.on_unreachable == OnUnreachable::keep_running) {
    log_.error("LEASE LAPSING: no acknowledged heartbeat in time; fencing is off, the workload keeps running "
               "and the reaper may declare this run dead while it runs",
               {{"since_last_ack", format_duration(since)}});
    return;
  }
  if (workload_running()) {
    stop_workload(StopCause::unreachable, "no acknowledged heartbeat since " + format_duration(since));
  } else if (opt_.verb == Verb::exec) {
    log_.error("reaper unreachable: the lease could not be acquired in time; not starting the workload");
    ending_.cause = StopCause::unreachable;
    finish();
  } else {
    log_.error("reaper unreachable: the lease lapsed; the workload will be stopped if it appears");
  }
}

void App::stop_workload(StopCause cause, const std::string& why) {
  if (ending_.cause == StopCause::none || cause == StopCause::unreachable) ending_.cause = cause;
  if (stopping_ || !workload_running()) return;
  stopping_ = true;
  metrics_.count_stop(cause == StopCause::unreachable ? "unreachable" : "stop_directive");
  log_.warn("stopping the workload", {{"reason", cause == StopCause::unreachable ? "unreachable" : "stop_directive"},
                                      {"detail", why},
                                      {"kill_grace", format_duration(opt_.kill_grace)}});
  workload_->signal(SIGTERM);
  kill_timer_.expires_after(opt_.kill_grace);
  kill_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !workload_running()) return;
    log_.warn("workload still running after the kill grace; sending SIGKILL");
    workload_->signal(SIGKILL);
  });
}

void App::on_workload_exit(WorkloadExit exit) {
  ending_.workload_code = exit.code;
  kill_timer_.cancel();
  if (stopping_ && exec_) exec_->signal(SIGKILL);  // stragglers of the group must not outlive the fence
  log_.info("workload exited", {{"exit_code", exit.code ? std::to_string(*exit.code) : std::string("unknown")}});
  finish();
}

void App::finish() {
  if (finishing_) return;
  finishing_ = true;
  fence_timer_.cancel();
  if (watcher_) watcher_->cancel();
  Release r = decide_release(ending_);
  keeper_.finish(r.outcome, r.exit_code);
}

// The lease is released (or the release was given up). The sidecar may stay up a while:
//  - after it stopped the workload itself, for --linger-after-stop: an exec-mode sidecar is the
//    container's main process, and without it the stop would reach no scrape;
//  - in run mode, for --await-sigterm: a native sidecar (restartPolicy Always) that exits before
//    the kubelet has seen the workload's container end is restarted, and the new process would
//    heartbeat the finished run's lease again. The kubelet sends SIGTERM once it has.
// Not when the pod is being terminated anyway (SIGTERM), which also ends a wait at once.
void App::on_released() {
  if (done_ || lingering_) return;
  if (exit_status_ != 2) exit_status_ = decide_exit_status(ending_);
  bool stopped_by_us = exit_status_ == 3 || exit_status_ == 4;
  Duration linger = stopped_by_us ? opt_.linger_after_stop : Duration{0};
  Duration await = opt_.verb == Verb::run && exit_status_ != 2 ? opt_.await_sigterm : Duration{0};
  Duration wait = std::max(linger, await);
  if (terminate_received_ || wait.count() <= 0) {
    shutdown();
    return;
  }
  lingering_ = true;
  bool awaiting = await > linger;
  if (!awaiting)
    log_.info("workload stopped; serving /metrics until the linger ends",
              {{"linger_after_stop", format_duration(linger)}, {"status", exit_status_}});
  else
    log_.info("lease released; waiting for SIGTERM before exiting",
              {{"await_sigterm", format_duration(await)}, {"status", exit_status_}});
  linger_timer_.expires_after(wait);
  linger_timer_.async_wait([this, awaiting](boost::system::error_code ec) {
    if (ec) return;
    if (awaiting)
      log_.warn("no SIGTERM within --await-sigterm; exiting anyway",
                {{"await_sigterm", format_duration(opt_.await_sigterm)}});
    shutdown();
  });
}

void App::shutdown() {
  if (done_) return;
  done_ = true;
  if (exit_status_ != 2) exit_status_ = decide_exit_status(ending_);
  log_.info("exiting", {{"status", exit_status_}});
  boost::system::error_code ec;
  signals_.cancel(ec);
  fence_timer_.cancel();
  kill_timer_.cancel();
  linger_timer_.cancel();
  if (watcher_) watcher_->cancel();
  health_.stop();
  client_.close();
}

HealthSnapshot App::snapshot() const {
  const LeaseView& v = keeper_.view();
  SteadyTime now = clock_.steady_now();
  HealthSnapshot s;
  s.run_id = opt_.run_id;
  s.holder = opt_.holder;
  s.node = opt_.node;
  s.mode = opt_.verb == Verb::exec ? "exec" : "run";
  s.epoch = v.epoch;
  if (v.last_ack_sent) s.last_ack_age_s = to_seconds(std::chrono::duration_cast<Duration>(now - *v.last_ack_sent));
  s.granted_ttl_s = to_seconds(v.granted_ttl);
  s.interval_s = to_seconds(v.interval);
  // Once fenced the lease counts as lost even if its TTL has not run out; while it is being
  // released it is still held, but the pod is no longer ready.
  bool fenced = lapsed_ && opt_.on_unreachable == OnUnreachable::stop;
  bool held = v.last_ack_sent && !v.stop_received && !fenced && now - *v.last_ack_sent < v.granted_ttl;
  s.ready = held && !finishing_;
  s.lease_state = v.released         ? "released"
                  : v.stop_received  ? "stopped"
                  : held             ? "held"
                  : v.last_ack_sent  ? "lapsed"
                                     : "acquiring";
  s.fencing = opt_.on_unreachable == OnUnreachable::stop;
  if (s.fencing && !finishing_)
    s.stop_deadline_in_s = to_seconds(std::chrono::duration_cast<Duration>(fence_deadline_ - now));
  s.consecutive_failures = v.consecutive_failures;
  s.seq = v.seq;
  s.phase = phase_name(v.phase);
  if (workload_running())
    for (pid_t p : workload_->pids()) s.workload_pids.push_back(p);
  return s;
}

}  // namespace lifeline::sidecar
