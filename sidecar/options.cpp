#include "sidecar/options.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include "sidecar/fencing.hpp"

namespace lifeline::sidecar {
namespace {

// One setting: its flag, its variable, its default (empty = none).
struct Setting {
  std::string_view flag;
  std::string_view env;
  std::string_view fallback_env;  // e.g. PREFECT__FLOW_RUN_ID for --run-id
  std::string_view default_value;
};

constexpr Setting kSettings[] = {
    {"run-id", "LIFELINE_RUN_ID", "PREFECT__FLOW_RUN_ID", ""},
    {"reaper-url", "LIFELINE_REAPER_URL", "", ""},
    {"token-file", "LIFELINE_TOKEN_FILE", "", ""},
    {"reaper-ca-file", "LIFELINE_REAPER_CA_FILE", "", ""},
    {"interval", "LIFELINE_INTERVAL", "", "5s"},
    {"ttl", "LIFELINE_TTL", "", "30s"},
    {"kill-grace", "LIFELINE_KILL_GRACE", "", "10s"},
    {"linger-after-stop", "LIFELINE_LINGER_AFTER_STOP", "", "0s"},
    {"await-sigterm", "LIFELINE_AWAIT_SIGTERM", "", "0s"},
    {"on-unreachable", "LIFELINE_ON_UNREACHABLE", "", "stop"},
    {"target", "LIFELINE_TARGET", "", "auto"},
    {"listen", "LIFELINE_LISTEN", "", "0.0.0.0:8790"},
    {"holder", "LIFELINE_HOLDER", "HOSTNAME", ""},
    {"node", "LIFELINE_NODE", "NODE_NAME", ""},
    {"start-timeout", "LIFELINE_START_TIMEOUT", "", "60s"},
    {"log-level", "LIFELINE_LOG_LEVEL", "", "info"},
};

// Flags of the inject verb (values handed to the injector as given).
constexpr std::string_view kInjectFlags[] = {"in", "out", "image", "reaper-url", "token-secret-name",
                                             "token-secret-key", "reaper-ca-secret", "interval", "ttl",
                                             "kill-grace", "on-unreachable", "target", "run-as-user"};

const Setting* find_setting(std::string_view flag) {
  for (const auto& s : kSettings)
    if (s.flag == flag) return &s;
  return nullptr;
}

// The run id check, here rather than shared/uuid.hpp: that file also holds the SHA-1
// (OpenSSL) name-based UUIDs, and linking libcrypto costs every sidecar ~1.4 MiB of RSS.
bool is_canonical_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (c == '-')) return false;
    if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

Error usage_error(std::string message) { return make_error("usage", std::move(message)); }

// The value of a setting and where it came from (for error messages).
struct Sourced {
  std::string value;
  std::string source;  // "--interval" or "LIFELINE_INTERVAL" or "default"
};

Sourced resolve(const Setting& s, const std::map<std::string, std::string, std::less<>>& flags,
                const EnvLookup& env) {
  if (auto it = flags.find(s.flag); it != flags.end()) return {it->second, "--" + std::string(s.flag)};
  if (auto v = env(s.env); v && !v->empty()) return {*v, std::string(s.env)};
  if (!s.fallback_env.empty())
    if (auto v = env(s.fallback_env); v && !v->empty()) return {*v, std::string(s.fallback_env)};
  return {std::string(s.default_value), "default"};
}

Result<Duration> duration_setting(const Sourced& v, std::string_view name, bool zero_allowed) {
  auto d = parse_duration(v.value);
  if (!d) return usage_error(std::string(name) + " (from " + v.source + "): " + d.error().message);
  if (d->count() == 0 && !zero_allowed)
    return usage_error(std::string(name) + " (from " + v.source + ") must be longer than 0s");
  return *d;
}

}  // namespace

Duration Options::request_timeout() const {
  return std::clamp(interval / 2, Duration(50), Duration(5000));
}

Result<TargetSpec> parse_target(std::string_view text) {
  TargetSpec t;
  if (text == "auto") return t;
  if (text == "none") {
    t.kind = TargetSpec::Kind::none;
    return t;
  }
  if (text.substr(0, 4) == "pid:") {
    auto digits = text.substr(4);
    int pid = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size() || pid <= 0)
      return make_error("bad_target", "target \"" + std::string(text) + "\": pid must be a positive number");
    t.kind = TargetSpec::Kind::pid;
    t.pid = pid;
    return t;
  }
  if (text.substr(0, 5) == "name:" && text.size() > 5) {
    t.kind = TargetSpec::Kind::name;
    t.comm = std::string(text.substr(5));
    return t;
  }
  return make_error("bad_target", "target \"" + std::string(text) +
                                      "\" must be pid:N, name:COMM, auto or none");
}

std::string usage_text(Verb verb) {
  std::string common =
      "Settings (flag, environment variable, default; the flag wins):\n"
      "  --run-id UUID          LIFELINE_RUN_ID         $PREFECT__FLOW_RUN_ID  flow run id (required)\n"
      "  --reaper-url URL       LIFELINE_REAPER_URL     (required)  e.g. http://lifeline-reaper.lifeline:8080\n"
      "  --token-file FILE      LIFELINE_TOKEN_FILE     none        bearer token sent to the reaper\n"
      "  --reaper-ca-file FILE  LIFELINE_REAPER_CA_FILE system CAs  https: CA bundle (PEM) the reaper's\n"
      "                                                             certificate must chain to\n"
      "  --interval DUR         LIFELINE_INTERVAL       5s          heartbeat period\n"
      "  --ttl DUR              LIFELINE_TTL            30s         lease TTL asked for\n"
      "  --kill-grace DUR       LIFELINE_KILL_GRACE     10s         SIGTERM to SIGKILL grace\n"
      "  --on-unreachable MODE  LIFELINE_ON_UNREACHABLE stop        stop | continue (fencing off)\n"
      "  --linger-after-stop DUR  LIFELINE_LINGER_AFTER_STOP  0s  once it stopped the workload\n"
      "                         (exit 3 or 4), keep serving /metrics this long so that the stop\n"
      "                         is scraped; SIGTERM ends it at once\n"
      "  --listen HOST:PORT     LIFELINE_LISTEN         0.0.0.0:8790 health/metrics; port 0 = any\n"
      "  --holder NAME          LIFELINE_HOLDER         $HOSTNAME   holder identity (pod name)\n"
      "  --node NAME            LIFELINE_NODE           $NODE_NAME  node name\n"
      "  --log-level LEVEL      LIFELINE_LOG_LEVEL      info        debug | info | warn | error\n";
  switch (verb) {
    case Verb::run:
      return "usage: lifeline-sidecar [run] [SETTINGS]\n"
             "Heartbeats the flow run's lease and watches the workload process found through\n"
             "/proc (shareProcessNamespace) until it exits; then releases the lease, exits 0.\n"
             "Exit: 0 workload exited, 3 stopped it (reaper unreachable), 4 stopped it (reaper\n"
             "said stop), 2 usage or configuration error.\n\n" +
             common +
             "  --target SPEC          LIFELINE_TARGET         auto        pid:N | name:COMM | auto | none\n"
             "  --start-timeout DUR    LIFELINE_START_TIMEOUT  60s         wait this long for the target\n"
             "  --await-sigterm DUR    LIFELINE_AWAIT_SIGTERM  0s          after the release, wait this long\n"
             "                         for SIGTERM before exiting: a native sidecar that exits before\n"
             "                         the kubelet saw the workload's container end is restarted\n"
             "Other verbs: exec, inject (see --help of each). --version prints the version.\n";
    case Verb::exec:
      return "usage: lifeline-sidecar exec [SETTINGS] -- CMD [ARGS...]\n"
             "Starts CMD in its own process group once the lease is held, forwards SIGTERM,\n"
             "SIGINT, SIGHUP, SIGUSR1, SIGUSR2 to it, heartbeats the lease, releases it when CMD\n"
             "exits. Exit: CMD's status (128+signal if killed), 3 stopped it (reaper\n"
             "unreachable), 4 stopped it (reaper said stop), 2 usage or configuration error.\n\n" +
             common;
    case Verb::inject:
      return "usage: lifeline-sidecar inject --image IMAGE --reaper-url URL [--in FILE] [--out FILE]\n"
             "         [--token-secret-name NAME] [--token-secret-key KEY] [--reaper-ca-secret NAME]\n"
             "         [--legacy-sidecar] [--interval DUR] [--ttl DUR] [--kill-grace DUR]\n"
             "         [--on-unreachable MODE] [--target SPEC] [--run-as-user UID]\n"
             "Adds the lifeline sidecar to a Prefect Kubernetes work-pool base job template (JSON,\n"
             "stdin or --in) and writes it to stdout or --out. Idempotent.\n"
             "--reaper-ca-secret: for an https:// reaper whose certificate a private CA signed, the\n"
             "Secret whose key ca.crt is that CA (PEM); mounted into the sidecar, which verifies the\n"
             "reaper against it.\n";
  }
  return "";
}

Result<Invocation> parse_command_line(const std::vector<std::string>& args, const EnvLookup& env) {
  Invocation inv;
  Options& o = inv.options;
  std::size_t i = 0;
  if (!args.empty()) {
    if (args[0] == "run") {
      ++i;
    } else if (args[0] == "exec") {
      o.verb = Verb::exec;
      ++i;
    } else if (args[0] == "inject") {
      o.verb = Verb::inject;
      ++i;
    } else if (!args[0].empty() && args[0][0] != '-') {
      return usage_error("unknown verb \"" + args[0] + "\" (expected run, exec or inject; see --help)");
    }
  }

  std::map<std::string, std::string, std::less<>> flags;
  bool legacy_sidecar = false;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      inv.kind = Invocation::Kind::print;
      inv.text = usage_text(o.verb);
      return inv;
    }
    if (a == "--version") {
      inv.kind = Invocation::Kind::print;
      inv.text = std::string("lifeline-sidecar ") + LIFELINE_VERSION + "\n";
      return inv;
    }
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 3 || a.substr(0, 2) != "--") {
      if (o.verb == Verb::exec) break;  // CMD without "--"
      return usage_error("unexpected argument \"" + a + "\" (see --help)");
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (o.verb == Verb::inject && name == "legacy-sidecar") {
      legacy_sidecar = true;
      continue;
    }
    bool known = o.verb == Verb::inject
                     ? std::find(std::begin(kInjectFlags), std::end(kInjectFlags), name) != std::end(kInjectFlags)
                     : find_setting(name) != nullptr &&
                           (o.verb == Verb::run || (name != "target" && name != "start-timeout"));
    if (!known) return usage_error("unknown flag --" + name + " (see --help)");
    if (!has_value) {
      if (i + 1 >= args.size()) return usage_error("flag --" + name + " needs a value");
      value = args[++i];
    }
    flags[name] = value;
  }

  if (o.verb == Verb::inject) {
    inv.kind = Invocation::Kind::inject;
    for (auto& [k, v] : flags) {
      if (k == "in") inv.inject.in_path = v;
      else if (k == "out") inv.inject.out_path = v;
      else inv.inject.values.emplace_back(k, v);
    }
    if (legacy_sidecar) inv.inject.values.emplace_back("legacy-sidecar", "true");
    if (i < args.size()) return usage_error("unexpected argument \"" + args[i] + "\" (see --help)");
    return inv;
  }

  if (o.verb == Verb::exec) {
    o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    if (o.command.empty()) return usage_error("exec needs a command: lifeline-sidecar exec [SETTINGS] -- CMD [ARGS...]");
  } else if (i < args.size()) {
    return usage_error("unexpected argument \"" + args[i] + "\" (run takes no command; did you mean exec?)");
  }

  auto get = [&](std::string_view flag) { return resolve(*find_setting(flag), flags, env); };

  auto run_id = get("run-id");
  if (run_id.value.empty())
    return usage_error("run id required: set --run-id, LIFELINE_RUN_ID or PREFECT__FLOW_RUN_ID");
  if (!is_canonical_uuid(run_id.value))
    return usage_error("run-id (from " + run_id.source + ") \"" + run_id.value + "\" is not a UUID");
  o.run_id = lower(run_id.value);

  auto url = get("reaper-url");
  if (url.value.empty()) return usage_error("reaper URL required: set --reaper-url or LIFELINE_REAPER_URL");
  auto parsed_url = parse_http_url(url.value);
  if (!parsed_url) return usage_error("reaper-url (from " + url.source + "): " + parsed_url.error().message);
  o.reaper_url_text = url.value;
  o.reaper_url = *parsed_url;

  o.token_file = get("token-file").value;
  auto ca = get("reaper-ca-file");
  if (!ca.value.empty() && !o.reaper_url.tls)
    return usage_error("reaper-ca-file (from " + ca.source + ") is only used with an https:// reaper-url");
  o.reaper_ca_file = ca.value;

  struct {
    const char* name;
    Duration* out;
    bool zero_allowed;  // 0s means "none" (no grace, no linger, no wait)
  } durations[] = {{"interval", &o.interval, false},
                   {"ttl", &o.ttl, false},
                   {"kill-grace", &o.kill_grace, true},
                   {"linger-after-stop", &o.linger_after_stop, true},
                   {"await-sigterm", &o.await_sigterm, true},
                   {"start-timeout", &o.start_timeout, false}};
  for (auto& d : durations) {
    auto v = duration_setting(get(d.name), d.name, d.zero_allowed);
    if (!v) return v.error();
    *d.out = *v;
  }
  if (o.verb == Verb::exec && o.await_sigterm.count() > 0)
    return usage_error("await-sigterm (from " + get("await-sigterm").source +
                       ") is for run mode: in exec mode the sidecar is the container's main process and "
                       "must exit with its command");

  auto unreachable = get("on-unreachable");
  if (unreachable.value == "stop") o.on_unreachable = OnUnreachable::stop;
  else if (unreachable.value == "continue") o.on_unreachable = OnUnreachable::keep_running;
  else
    return usage_error("on-unreachable (from " + unreachable.source + ") must be stop or continue, not \"" +
                       unreachable.value + "\"");

  auto target = get("target");
  auto t = parse_target(target.value);
  if (!t) return usage_error("target (from " + target.source + "): " + t.error().message);
  o.target = *t;

  auto listen = get("listen");
  auto hp = parse_host_port(listen.value);
  if (!hp) return usage_error("listen (from " + listen.source + "): " + hp.error().message);
  o.listen = *hp;

  o.holder = get("holder").value;
  if (o.holder.empty()) return usage_error("holder required: set --holder, LIFELINE_HOLDER or HOSTNAME");
  o.node = get("node").value;

  auto level = get("log-level");
  if (!parse_log_level(level.value, o.log_level))
    return usage_error("log-level (from " + level.source + ") must be debug, info, warn or error");

  if (o.on_unreachable == OnUnreachable::stop) {
    auto rule = fencing::check(o.interval, o.ttl, o.kill_grace, o.request_timeout());
    if (!rule) return make_error("config", rule.error().message);
  }
  return inv;
}

}  // namespace lifeline::sidecar
