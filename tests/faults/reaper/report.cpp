#include "tests/faults/reaper/report.hpp"

#include <cstdio>
#include <iostream>

namespace lifeline::faults {

bool ScenarioResult::check(bool ok, const std::string& what, const std::string& numbers) {
  (ok ? checks_passed : checks_failed)++;
  std::cout << (ok ? "PASS " : "FAIL ") << name << ": " << what << " (" << numbers << ")" << std::endl;
  return ok;
}

void ScenarioResult::note(const std::string& text) {
  notes.push_back(text);
  std::cout << "  note " << name << ": " << text << std::endl;
}

std::string thousands(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

void print_summary(const std::vector<ScenarioResult>& results, double total_seconds) {
  char buf[64];
  std::cout << "\n| scenario | load | faults injected | runs reaped | duplicates | lost | healthy crashed | time (s) | "
               "result |\n"
            << "|---|---|---|---:|---:|---:|---:|---:|---|\n";
  for (const auto& r : results) {
    std::snprintf(buf, sizeof buf, "%.1f", r.seconds);
    std::cout << "| " << r.name << " | " << r.load << " | " << r.faults << " | " << r.reaped << " | " << r.duplicates
              << " | " << r.lost << " | " << r.healthy_crashed << " | " << buf << " | "
              << (r.passed() ? "PASS" : "FAIL") << " |\n";
  }
  std::cout << "\n";
  bool all = !results.empty();
  for (const auto& r : results) {
    std::snprintf(buf, sizeof buf, "%.1f", r.seconds);
    std::cout << "RESULT scenario=" << r.name << " pass=" << (r.passed() ? 1 : 0) << " reaped=" << r.reaped
              << " duplicates=" << r.duplicates << " lost=" << r.lost << " healthy_crashed=" << r.healthy_crashed
              << " checks_passed=" << r.checks_passed << " checks_failed=" << r.checks_failed << " seconds=" << buf
              << "\n";
    all = all && r.passed();
  }
  std::snprintf(buf, sizeof buf, "%.1f", total_seconds);
  std::cout << "RESULT scenario=all pass=" << (all ? 1 : 0) << " scenarios=" << results.size() << " seconds=" << buf
            << std::endl;
}

}  // namespace lifeline::faults
