#include "sidecar/entry.hpp"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "shared/clock.hpp"
#include "shared/log.hpp"
#include "sidecar/app.hpp"
#include "sidecar/inject_command.hpp"
#include "sidecar/options.hpp"

namespace lifeline::sidecar {

namespace {

std::optional<std::string> environment(std::string_view name) {
  if (const char* v = std::getenv(std::string(name).c_str())) return std::string(v);
  if (name == "HOSTNAME") {
    // Shells do not export HOSTNAME; Kubernetes does. Fall back to the kernel's.
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) == 0) return std::string(buf);
  }
  return std::nullopt;
}

}  // namespace

int run_sidecar(int argc, char** argv, TlsProvider tls_provider) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto inv = parse_command_line(args, environment);
  if (!inv) {
    std::cerr << "lifeline-sidecar: " << inv.error().message << "\n";
    return 2;
  }
  if (inv->kind == Invocation::Kind::print) {
    std::cout << inv->text;
    return 0;
  }
  if (inv->kind == Invocation::Kind::inject) return run_inject(inv->inject);

  Options& opt = inv->options;
  std::string token;
  if (!opt.token_file.empty()) {
    std::ifstream in(opt.token_file);
    if (!in) {
      std::cerr << "lifeline-sidecar: token-file: cannot read " << opt.token_file << "\n";
      return 2;
    }
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  }
  std::unique_ptr<TlsLayer> tls;
  if (opt.reaper_url.tls) {
    auto layer = tls_provider(opt, argv);
    if (!layer) {
      std::cerr << "lifeline-sidecar: " << layer.error().message << "\n";
      return 2;
    }
    tls = std::move(*layer);
  }
  ::signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  Logger log = Logger(clock, "sidecar", opt.log_level).with({{"run_id", opt.run_id}});
  boost::asio::io_context io(1);
  App app(io, clock, std::move(opt), std::move(token), std::move(tls), log);
  return app.run();
}

}  // namespace lifeline::sidecar
