#include "tests/faults/soak/report.hpp"

#include <cstdio>
#include <iostream>

namespace lifeline::faults {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void Report::check(const std::string& name, bool pass, const std::string& detail) {
  rows_.push_back({name, pass ? "PASS" : "FAIL", detail});
  std::cout << (pass ? "PASS " : "FAIL ") << name << ": " << detail << std::endl;
}

void Report::figure(const std::string& name, const std::string& detail) {
  rows_.push_back({name, "INFO", detail});
  std::cout << "INFO " << name << ": " << detail << std::endl;
}

void Report::result(const std::string& scope, const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string line = "RESULT scope=" + scope;
  for (const auto& [k, v] : pairs) line += " " + k + "=" + v;
  results_.push_back(line);
}

void Report::note(const std::string& line) { std::cout << "  " << line << std::endl; }

void Report::print_summary() const {
  std::cout << "\n| check | result | figures |\n|---|---|---|\n";
  for (const auto& r : rows_) std::cout << "| " << r.name << " | " << r.verdict << " | " << r.detail << " |\n";
  std::cout << "\n";
  for (const auto& l : results_) std::cout << l << "\n";
  std::cout << "RESULT scope=overall passed=" << (all_passed() ? "yes" : "no") << std::endl;
}

bool Report::all_passed() const {
  for (const auto& r : rows_)
    if (r.verdict == "FAIL") return false;
  return true;
}

}  // namespace lifeline::faults
