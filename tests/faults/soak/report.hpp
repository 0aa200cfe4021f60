#pragma once
// What fault_soak prints: one PASS/FAIL line per check as it is decided, INFO lines for
// figures that have no pass criterion, then a markdown table to paste into the README and
// machine-readable `RESULT key=value ...` lines. The exit status is 0 only if every check
// passed.
// Thread-safety: one owner thread.

#include <string>
#include <vector>

namespace lifeline::faults {

class Report {
 public:
  // A pass/fail criterion of the issue; `detail` carries the numbers.
  void check(const std::string& name, bool pass, const std::string& detail);
  // A measured figure without a pass criterion (delays, rates, shares).
  void figure(const std::string& name, const std::string& detail);
  // One `RESULT` line: `scope` then the key=value pairs, printed at the end too.
  void result(const std::string& scope, const std::vector<std::pair<std::string, std::string>>& pairs);
  void note(const std::string& line);  // progress, printed at once

  void print_summary() const;
  bool all_passed() const;

 private:
  struct Row {
    std::string name;
    std::string verdict;  // PASS, FAIL or INFO
    std::string detail;
  };
  std::vector<Row> rows_;
  std::vector<std::string> results_;
};

std::string fixed(double v, int decimals = 3);

}  // namespace lifeline::faults
