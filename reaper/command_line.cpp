#include "reaper/command_line.hpp"

namespace lifeline::reaper {

std::string usage_text() {
  return "usage:\n"
         "  lifeline-reaper --config FILE [--log-level LEVEL]   serve the heartbeat API and reap dead runs\n"
         "  lifeline-reaper check-config FILE                   validate FILE, print the effective settings\n"
         "  lifeline-reaper migrate --config FILE               apply the database schema and exit\n"
         "  lifeline-reaper --help | --version\n"
         "\n"
         "options:\n"
         "  --config FILE       TOML configuration (see docs/reaper.md)\n"
         "  --log-level LEVEL   debug, info (default), warn or error\n"
         "\n"
         "signals: SIGTERM drains and exits 0 (a second one exits at once); SIGHUP reloads FILE.\n"
         "exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n";
}

Result<CommandLine> parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  std::size_t i = 0;
  bool verb_given = false;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    if (args[0] == "check-config") cl.command = Command::check_config;
    else if (args[0] == "migrate") cl.command = Command::migrate;
    else if (args[0] == "serve") cl.command = Command::serve;
    else return make_error("usage", "unknown command \"" + args[0] + "\"");
    verb_given = true;
    i = 1;
  }
  std::vector<std::string> positional;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& flag, std::string& out) -> Status {
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        out = a.substr(eq + 1);
      } else {
        if (i + 1 >= args.size()) return make_error("usage", flag + " needs a value");
        out = args[++i];
      }
      if (out.empty()) return make_error("usage", flag + " needs a non-empty value");
      return Ok{};
    };
    auto is = [&](const char* flag) { return a == flag || a.rfind(std::string(flag) + "=", 0) == 0; };
    if (a == "--help" || a == "-h") {
      cl.command = Command::help;
      return cl;
    }
    if (a == "--version") {
      cl.command = Command::version;
      return cl;
    }
    if (is("--config")) {
      if (auto s = value("--config", cl.config_path); !s) return s.error();
    } else if (is("--log-level")) {
      std::string level;
      if (auto s = value("--log-level", level); !s) return s.error();
      if (!parse_log_level(level, cl.log_level))
        return make_error("usage", "--log-level must be debug, info, warn or error, not \"" + level + "\"");
    } else if (!a.empty() && a[0] == '-') {
      return make_error("usage", "unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (cl.command == Command::check_config && cl.config_path.empty() && positional.size() == 1) {
    cl.config_path = positional[0];
    positional.clear();
  }
  if (!positional.empty()) return make_error("usage", "unexpected argument \"" + positional[0] + "\"");
  if (cl.config_path.empty()) {
    const char* what = cl.command == Command::check_config ? "check-config needs a FILE"
                       : verb_given && cl.command == Command::migrate ? "migrate needs --config FILE"
                                                                      : "--config FILE is required";
    return make_error("usage", what);
  }
  return cl;
}

}  // namespace lifeline::reaper
