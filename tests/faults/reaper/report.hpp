#pragma once
// What a scenario found: its checks (each printed as PASS/FAIL with numbers the moment it is
// decided) and the figures of the final table and the RESULT lines.
// Thread-safety: one owner thread (the driver's main thread).

#include <string>
#include <vector>

namespace lifeline::faults {

struct ScenarioResult {
  std::string name;
  std::string load;    // e.g. "1,000 simulated leases at 1/s + 3 pods"
  std::string faults;  // e.g. "12 SIGKILLs"
  int reaped = 0;           // dead runs Crashed and rescheduled exactly once
  int duplicates = 0;       // runs with a second Crashed or AwaitingRetry
  int lost = 0;             // dead runs without their Crashed or AwaitingRetry
  int healthy_crashed = 0;  // healthy runs lifeline crashed
  double seconds = 0;
  int checks_failed = 0;
  int checks_passed = 0;
  std::vector<std::string> notes;  // evidence for the report (log paths, run ids)

  // Prints "PASS|FAIL <scenario>: <what> (<numbers>)" and counts it; returns `ok`.
  bool check(bool ok, const std::string& what, const std::string& numbers);
  // A line of context under the checks ("  note: ...").
  void note(const std::string& text);
  bool passed() const { return checks_failed == 0 && checks_passed > 0; }
};

// The markdown table over all scenarios, then one RESULT line per scenario and a total.
void print_summary(const std::vector<ScenarioResult>& results, double total_seconds);

// "1,234"
std::string thousands(long long n);

}  // namespace lifeline::faults
