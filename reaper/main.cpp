// lifeline-reaper: wiring only. Parses the command line, loads the configuration and
// runs the chosen command; everything else lives in lifeline_reaper_lib.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "reaper/app.hpp"
#include "reaper/command_line.hpp"
#include "reaper/config_loader.hpp"
#include "reaper/config_report.hpp"
#include "reaper/reap_wiring.hpp"
#include "shared/clock.hpp"
#include "shared/process_limits.hpp"
#include "shared/log.hpp"

using namespace lifeline;
using namespace lifeline::reaper;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto cl = parse_command_line(args);
  if (!cl) {
    std::cerr << "lifeline-reaper: " << cl.error().message << "\n\n" << usage_text();
    return 2;
  }
  if (cl->command == Command::help) {
    std::cout << usage_text();
    return 0;
  }
  if (cl->command == Command::version) {
    std::cout << "lifeline-reaper " << LIFELINE_VERSION << "\n";
    return 0;
  }

  ConfigLoad loaded = load_config_file(cl->config_path);
  if (cl->command == Command::check_config) {
    if (!loaded.ok()) {
      for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
      std::cerr << loaded.errors.size() << (loaded.errors.size() == 1 ? " error" : " errors") << " in "
                << cl->config_path << "\n";
      return 2;
    }
    std::cout << describe_config(loaded.config);
    return 0;
  }

  SystemClock clock;
  Logger log(clock, "reaper", cl->log_level);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) log.error("configuration error", {{"error", e.to_string()}});
    return 2;
  }
  if (cl->command == Command::migrate) return run_migrate(loaded.config, log);

  // One descriptor per sidecar connection: take all the kernel allows.
  auto files = raise_open_files_limit();
  log.info("open files limit", {{"soft", static_cast<long long>(files.soft)}, {"hard", static_cast<long long>(files.hard)}});
  App app(cl->config_path, std::move(loaded.config), clock, log);
  app.set_reap_factory(make_reap_factory());
  return app.serve();
}
