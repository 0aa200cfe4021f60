#include "tests/faults/soak/run_diagnosis.hpp"

#include <sstream>

#include "shared/time_format.hpp"

namespace lifeline::faults {

namespace {

void keep_newest(std::vector<std::string>& lines, std::size_t max) {
  if (lines.size() <= max) return;
  const std::size_t dropped = lines.size() - max;
  lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(dropped));
  lines.insert(lines.begin(), "(" + std::to_string(dropped) + " earlier lines left out)");
}

void append(std::vector<std::string>& out, const std::string& source, std::vector<std::string> lines,
            std::size_t max) {
  if (lines.empty()) lines.push_back("(nothing)");
  keep_newest(lines, max);
  for (auto& l : lines) out.push_back(source + " " + l);
}

}  // namespace

std::vector<std::string> diagnose_run(TestBed& bed, const std::string& run_id, std::size_t max_per_source) {
  std::vector<std::string> out;
  for (const auto& reaper : bed.reapers()) {
    std::vector<std::string> lines;
    std::istringstream in(reaper->process().stderr_text());
    for (std::string line; std::getline(in, line);)
      if (line.find(run_id) != std::string::npos) lines.push_back(line);
    append(out, "reaper " + reaper->url() + ":", std::move(lines), max_per_source);
  }
  std::vector<std::string> calls;
  for (const auto& c : bed.fake().calls()) {
    if (c.path.find(run_id) == std::string::npos && c.body.find(run_id) == std::string::npos) continue;
    std::string body = c.body.size() > 300 ? c.body.substr(0, 300) + "..." : c.body;
    calls.push_back(format_rfc3339(c.time) + " " + c.method + " " + c.path + " -> " +
                    (c.status == 0 ? std::string("closed") : std::to_string(c.status)) + " in " +
                    std::to_string(c.duration.count() / 1000) + " ms " + body);
  }
  append(out, "prefect call:", std::move(calls), max_per_source);
  std::vector<std::string> states;
  for (const auto& s : bed.fake().history(run_id)) {
    auto text = [&](const char* key) {
      auto it = s.find(key);
      return it == s.end() || it->is_null() ? std::string("-") : it->is_string() ? it->get<std::string>() : it->dump();
    };
    states.push_back(text("timestamp") + " " + text("type") + " (" + text("name") + ") " + text("message"));
  }
  append(out, "prefect state:", std::move(states), max_per_source);
  return out;
}

}  // namespace lifeline::faults
