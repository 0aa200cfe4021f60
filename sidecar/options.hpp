#pragma once
// The sidecar's command line and environment, parsed once into a validated struct.
// Every setting has a flag and a LIFELINE_* variable; the flag wins.
// Thread-safety: plain values and pure functions.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "shared/address.hpp"
#include "shared/duration.hpp"
#include "shared/log.hpp"
#include "shared/result.hpp"

namespace lifeline::sidecar {

enum class Verb { run, exec, inject };
enum class OnUnreachable { stop, keep_running };

// Which processes `run` mode watches (see docs/sidecar.md for how `auto` decides).
struct TargetSpec {
  enum class Kind { auto_detect, pid, name, none } kind = Kind::auto_detect;
  pid_t pid = 0;      // Kind::pid
  std::string comm;   // Kind::name: matched against /proc/<pid>/comm
};

struct Options {
  Verb verb = Verb::run;
  std::string run_id;
  std::string reaper_url_text;
  HttpUrl reaper_url;
  std::string token_file;
  std::string reaper_ca_file;  // https: CA bundle to verify the reaper with; empty = system store
  Duration interval{5000};
  Duration ttl{30'000};
  Duration kill_grace{10'000};
  // After the sidecar stopped the workload itself (exit 3 or 4): how long it keeps serving
  // /metrics before exiting, so that a scrape sees lifeline_sidecar_workload_stops_total.
  Duration linger_after_stop{0};
  // Run mode: after the release, how long to wait for SIGTERM before exiting. A native
  // sidecar (restartPolicy Always) that exits before the kubelet has seen the workload's
  // container end is restarted; the kubelet sends SIGTERM once the regular containers ended.
  Duration await_sigterm{0};
  Duration start_timeout{60'000};
  OnUnreachable on_unreachable = OnUnreachable::stop;
  TargetSpec target;
  HostPort listen{"0.0.0.0", 8790};
  std::string holder;
  std::string node;
  LogLevel log_level = LogLevel::info;
  std::vector<std::string> command;  // exec: CMD ARGS...

  // Connect + write + read budget of one request; well inside the interval.
  Duration request_timeout() const;
};

// Settings of the `inject` verb (the injector's own options plus file paths).
struct InjectCli {
  std::string in_path;   // empty = stdin
  std::string out_path;  // empty = stdout
  std::vector<std::pair<std::string, std::string>> values;  // flag name -> value, as given
};

// What the command line asks for: run the sidecar, print text (help, version), or inject.
struct Invocation {
  enum class Kind { run, print, inject } kind = Kind::run;
  Options options;
  InjectCli inject;
  std::string text;  // Kind::print
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// Parses argv (argv[0] excluded) and the environment. Errors name the setting and say
// how to fix it; the caller prints them and exits 2.
Result<Invocation> parse_command_line(const std::vector<std::string>& args, const EnvLookup& env);

Result<TargetSpec> parse_target(std::string_view text);

std::string usage_text(Verb verb);

}  // namespace lifeline::sidecar
