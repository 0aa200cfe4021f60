#include "tests/observability/promql_text.hpp"

#include <regex>

namespace lifeline::testing {
namespace {

void collect(const nlohmann::json& panels, std::vector<PanelQuery>& out) {
  if (!panels.is_array()) return;
  for (const auto& p : panels) {
    if (p.contains("targets") && p["targets"].is_array()) {
      for (const auto& t : p["targets"]) {
        std::string expr = t.value("expr", "");
        if (!expr.empty()) out.push_back({p.value("title", ""), t.value("refId", ""), expr, t.value("legendFormat", "")});
      }
    }
    if (p.contains("panels")) collect(p["panels"], out);  // a collapsed row keeps its panels here
  }
}

}  // namespace

std::vector<PanelQuery> dashboard_queries(const nlohmann::json& dashboard) {
  std::vector<PanelQuery> out;
  if (dashboard.contains("panels")) collect(dashboard["panels"], out);
  return out;
}

std::string substitute_variables(const std::string& expr, const std::map<std::string, std::string>& values,
                                 std::vector<std::string>* unknown) {
  static const std::regex var(R"(\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+))");
  std::string out;
  auto begin = std::sregex_iterator(expr.begin(), expr.end(), var);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    std::string name = m[1].matched ? m[1].str() : m[2].matched ? m[2].str() : m[3].str();
    out.append(expr, last, static_cast<std::size_t>(m.position(0)) - last);
    auto v = values.find(name);
    if (v != values.end()) {
      out += v->second;
    } else {
      out += m.str(0);
      if (unknown != nullptr) unknown->push_back(name);
    }
    last = static_cast<std::size_t>(m.position(0) + m.length(0));
  }
  out.append(expr, last, std::string::npos);
  return out;
}

std::vector<std::string> metric_selectors(const std::string& expr) {
  // A metric name not preceded by a name character, then optional matchers. Label values
  // sit inside the braces, so "lifeline-reaper" in job="lifeline-reaper" is never a name.
  static const std::regex sel(R"((^|[^A-Za-z0-9_:"])(up|lifeline[_:][A-Za-z0-9_:]*)(\{[^}]*\})?)");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), sel); it != std::sregex_iterator(); ++it) {
    std::string s = (*it)[2].str() + (*it)[3].str();
    // `up` followed by "(" would be a function; PromQL has none by that name, but be exact.
    auto after = static_cast<std::size_t>(it->position(0) + it->length(0));
    if (after < expr.size() && expr[after] == '(') continue;
    out.push_back(s);
  }
  return out;
}

}  // namespace lifeline::testing
