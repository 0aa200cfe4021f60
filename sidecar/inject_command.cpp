#include "sidecar/inject_command.hpp"

#include <charconv>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sidecar/inject/template_injector.hpp"

namespace lifeline::sidecar {

int run_inject(const InjectCli& cli) {
  InjectOptions opt;
  for (const auto& [k, v] : cli.values) {
    if (k == "image") opt.image = v;
    else if (k == "reaper-url") opt.reaper_url = v;
    else if (k == "token-secret-name") opt.token_secret_name = v;
    else if (k == "token-secret-key") opt.token_secret_key = v;
    else if (k == "reaper-ca-secret") opt.reaper_ca_secret = v;
    else if (k == "legacy-sidecar") opt.legacy_sidecar = true;
    else if (k == "interval") opt.interval = v;
    else if (k == "ttl") opt.ttl = v;
    else if (k == "kill-grace") opt.kill_grace = v;
    else if (k == "on-unreachable") opt.on_unreachable = v;
    else if (k == "target") opt.target = v;
    else if (k == "run-as-user") {
      std::int64_t uid = -1;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), uid);
      if (ec != std::errc{} || p != v.data() + v.size() || uid < 0) {
        std::cerr << "lifeline-sidecar inject: --run-as-user must be a non-negative number\n";
        return 2;
      }
      opt.run_as_user = uid;
    }
  }
  std::string text;
  if (cli.in_path.empty()) {
    std::ostringstream s;
    s << std::cin.rdbuf();
    text = s.str();
  } else {
    std::ifstream in(cli.in_path);
    if (!in) {
      std::cerr << "lifeline-sidecar inject: cannot read " << cli.in_path << "\n";
      return 2;
    }
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    std::cerr << "lifeline-sidecar inject: the input is not valid JSON\n";
    return 2;
  }
  auto result = inject_lifeline(doc, opt);
  if (!result) {
    std::cerr << "lifeline-sidecar inject: " << result.error().message << "\n";
    return 2;
  }
  for (const auto& w : result.value().warnings) std::cerr << "lifeline-sidecar inject: warning: " << w << "\n";
  std::string out = result.value().base_job_template.dump(2) + "\n";
  if (cli.out_path.empty()) {
    std::cout << out;
    std::cout.flush();
    return std::cout ? 0 : 2;
  }
  std::ofstream f(cli.out_path, std::ios::trunc);
  f << out;
  f.close();
  if (!f) {
    std::cerr << "lifeline-sidecar inject: cannot write " << cli.out_path << "\n";
    return 2;
  }
  return 0;
}

}  // namespace lifeline::sidecar
