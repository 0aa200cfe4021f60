#include "tests/fakes/command_line.hpp"

#include <cctype>
#include <cstdlib>

namespace lifeline::fake_prefect {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    double value = std::strtod(text.substr(start, i - start).c_str(), nullptr);
    std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    if (unit == "us") total_ms += value / 1000.0;
    else if (unit == "ms") total_ms += value;
    else if (unit == "s") total_ms += value * 1000.0;
    else if (unit == "m") total_ms += value * 60000.0;
    else if (unit == "h") total_ms += value * 3600000.0;
    else return std::nullopt;  // a bare number or an unknown unit
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

std::string usage() {
  return "usage: fake-prefect [--listen 127.0.0.1:PORT] [--latency 5ms] [--fail-rate 0.0]\n"
         "                    [--seed N] [--threads N] [--openapi FILE]\n"
         "                    [--auth-string USER:PASS | --api-key KEY]\n"
         "Serves a fake Prefect REST API under /api and its control API under /__fake/.\n"
         "Prints \"listening on HOST:PORT\" once it accepts connections; SIGTERM or SIGINT stop it.\n";
}

std::optional<CommandLine> parse_command_line(const std::vector<std::string>& args, std::string& error) {
  CommandLine cl;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      cl.help = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      error = flag + " needs a value";
      return std::nullopt;
    }
    const std::string& value = args[++i];
    if (flag == "--listen") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos) {
        error = "--listen must be HOST:PORT";
        return std::nullopt;
      }
      cl.options.host = value.substr(0, colon);
      char* end = nullptr;
      long port = std::strtol(value.c_str() + colon + 1, &end, 10);
      if (*end != '\0' || port < 0 || port > 65535 || colon + 1 == value.size()) {
        error = "--listen has an invalid port";
        return std::nullopt;
      }
      cl.options.port = static_cast<int>(port);
    } else if (flag == "--latency") {
      auto d = parse_duration(value);
      if (!d) {
        error = "--latency must be a duration such as 5ms";
        return std::nullopt;
      }
      cl.options.latency = *d;
    } else if (flag == "--fail-rate") {
      char* end = nullptr;
      double rate = std::strtod(value.c_str(), &end);
      if (*end != '\0' || rate < 0.0 || rate > 1.0) {
        error = "--fail-rate must be a number from 0 to 1";
        return std::nullopt;
      }
      cl.options.fail_rate = rate;
    } else if (flag == "--seed") {
      cl.options.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--threads") {
      long n = std::strtol(value.c_str(), nullptr, 10);
      if (n < 1) {
        error = "--threads must be at least 1";
        return std::nullopt;
      }
      cl.options.threads = static_cast<std::size_t>(n);
    } else if (flag == "--auth-string") {
      cl.options.authorization = basic_authorization(value);
    } else if (flag == "--api-key") {
      cl.options.authorization = "Bearer " + value;
    } else if (flag == "--openapi") {
      cl.options.openapi = value;
    } else {
      error = "unknown flag " + flag;
      return std::nullopt;
    }
  }
  return cl;
}

}  // namespace lifeline::fake_prefect
