#pragma once
// The PromQL text of the dashboards: every panel query of a Grafana dashboard, Grafana's
// template variables replaced by concrete values, and the metric selectors of an
// expression (for expressions that may legitimately have no result).
// Thread-safety: pure functions.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lifeline::testing {

struct PanelQuery {
  std::string panel;   // the panel's title
  std::string ref_id;  // the target's refId
  std::string expr;    // as written in the dashboard
  std::string legend;  // the target's legendFormat ("{{result}}"), may be empty
};

// Every Prometheus target (non-empty "expr") of every panel, rows' nested panels included.
std::vector<PanelQuery> dashboard_queries(const nlohmann::json& dashboard);

// Replaces $name, ${name} and [[name]] by values.at(name). Names without a value are
// left in place and listed in `unknown`.
std::string substitute_variables(const std::string& expr, const std::map<std::string, std::string>& values,
                                 std::vector<std::string>* unknown);

// The instant vector selectors of lifeline's metrics and `up` in `expr`, in order, each
// with its label matchers ("up{job=\"x\"}", "lifeline_reaper_ready").
std::vector<std::string> metric_selectors(const std::string& expr);

}  // namespace lifeline::testing
