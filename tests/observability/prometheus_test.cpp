// The dashboards and alert rules against a real Prometheus: it scrapes a reaper and five
// sidecars while pods vanish, get evicted and lose the reaper, and then every PromQL
// expression of dashboards/lifeline-overview.json and dashboards/lifeline.rules.yml is
// evaluated through its HTTP API and must return data. Also: `promtool check metrics`
// accepts both programs' /metrics.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/observability/observed_scenario.hpp"
#include "tests/observability/promql_text.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Expressions that legitimately return nothing in a one-minute scenario, checked by
// selector instead (the query succeeds and each metric selector in it matches series):
// alert name -> why it is empty here.
const std::map<std::string, std::string> kSelectorOnly = {
    {"LifelineReaperDown", "one reaper replica is up, so the condition is false"},
    {"LifelineReaperNotReady", "the reaper reaches its database throughout"},
    {"LifelineReapBacklogGrowing", "compares with the backlog 15 minutes ago (offset 15m), before Prometheus started"},
    {"LifelineDetectionDelayAboveTtl",
     "true only while a reap took longer than the 5 s TTL; the injected Prefect 503s delay some reaps by "
     "retries, so it may or may not hold at the moment of the check"},
};
// Of those, the ones whose condition is certainly false here (never pending or firing).
const std::set<std::string> kCertainlyInactive = {"LifelineReaperDown", "LifelineReaperNotReady",
                                                  "LifelineReapBacklogGrowing"};

struct Expression {
  std::string what;  // "panel <title> <refId>" or "rule <name>"
  std::string name;  // panel title or rule name
  std::string expr;  // concrete PromQL
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `promtool check metrics` with `text` on its standard input; exit status and output.
std::pair<int, std::string> promtool_check_metrics(const std::string& text) {
  auto prometheus = PrometheusServer::find_binary();
  fs::path promtool = fs::path(*prometheus).parent_path() / "promtool";
  char tmpl[] = "/tmp/lifeline-metrics-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) return {-1, "mkstemp failed"};
  ::close(fd);
  std::ofstream(tmpl) << text;
  std::string cmd = promtool.string() + " check metrics < " + tmpl + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  int status = ::pclose(p);
  ::unlink(tmpl);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class PrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PrometheusServer::find_binary()) return;
    scenario_ = new ObservedScenario();
    metrics_before_strike_ = {scenario_->reaper_metrics(), scenario_->sidecar_metrics()};
    scenario_->strike();
    settled_ = scenario_->wait_settled(60s);
  }
  static void TearDownTestSuite() {
    delete scenario_;
    scenario_ = nullptr;
  }
  void SetUp() override {
    if (!PrometheusServer::find_binary()) {
      GTEST_SKIP() << "prometheus is not installed (Debian package `prometheus`): cannot check the dashboards";
    }
    ASSERT_TRUE(settled_) << scenario_->why() << "\n" << scenario_->logs();
  }

  static std::vector<Expression> dashboard_expressions() {
    auto dashboard = nlohmann::json::parse(read_text(fs::path(LIFELINE_DASHBOARDS_DIR) / "lifeline-overview.json"));
    std::vector<Expression> out;
    for (const auto& q : dashboard_queries(dashboard)) {
      std::vector<std::string> unknown;
      std::string expr = substitute_variables(q.expr, scenario_->grafana_variables(), &unknown);
      EXPECT_TRUE(unknown.empty()) << "panel " << q.panel << " uses an unknown variable: " << unknown.front();
      out.push_back({"panel \"" + q.panel + "\" " + q.ref_id, q.panel, expr});
    }
    return out;
  }

  static std::vector<Expression> rule_expressions() {
    auto rules = scenario_->prometheus().rules();
    EXPECT_TRUE(rules.ok) << rules.error;
    std::vector<Expression> out;
    for (const auto& g : rules.data["groups"]) {
      for (const auto& r : g["rules"]) {
        out.push_back({r.value("type", "") + " rule " + r.value("name", ""), r.value("name", ""),
                       r.value("query", "")});
      }
    }
    return out;
  }

  // The expressions that should have data but have none yet (or fail).
  static std::vector<std::string> empty_ones(const std::vector<Expression>& exprs) {
    std::vector<std::string> missing;
    for (const auto& e : exprs) {
      if (kSelectorOnly.count(e.name) != 0) continue;
      auto a = scenario_->prometheus().query(e.expr);
      if (!a.ok || a.data["result"].empty()) missing.push_back(e.what);
    }
    return missing;
  }

  // Every expression returns data (waiting until Prometheus has scraped and evaluated
  // enough); those in kSelectorOnly succeed and their selectors match series.
  static void expect_data(const std::vector<Expression>& exprs) {
    ASSERT_FALSE(exprs.empty());
    std::vector<std::string> missing;
    wait_until([&] { return (missing = empty_ones(exprs)).empty(); }, 60s, 500ms);
    for (const auto& e : exprs) {
      auto a = scenario_->prometheus().query(e.expr);
      ASSERT_TRUE(a.ok) << e.what << ": " << e.expr << "\n" << a.error;
      if (kSelectorOnly.count(e.name) == 0) {
        EXPECT_FALSE(a.data["result"].empty()) << e.what << " returned no data: " << e.expr;
        continue;
      }
      auto selectors = metric_selectors(e.expr);
      EXPECT_FALSE(selectors.empty()) << e.what << ": no metric selector found in " << e.expr;
      for (const auto& s : selectors) {
        auto series = scenario_->prometheus().series(s, scenario_->started_at(), unix_now());
        ASSERT_TRUE(series.ok) << e.what << ": " << s << ": " << series.error;
        EXPECT_FALSE(series.data.empty()) << e.what << ": selector " << s << " matches no series";
      }
    }
  }

  static ObservedScenario* scenario_;
  static std::pair<std::string, std::string> metrics_before_strike_;
  static bool settled_;
};

ObservedScenario* PrometheusTest::scenario_ = nullptr;
std::pair<std::string, std::string> PrometheusTest::metrics_before_strike_;
bool PrometheusTest::settled_ = false;

TEST_F(PrometheusTest, PromtoolAcceptsTheReapersMetrics) {
  for (const auto& text : {metrics_before_strike_.first, scenario_->reaper_metrics()}) {
    ASSERT_NE(text.find("lifeline_reaper_heartbeats_total"), std::string::npos) << text;
    auto [code, out] = promtool_check_metrics(text);
    EXPECT_EQ(code, 0) << out;
    EXPECT_EQ(out, "") << out;
  }
}

TEST_F(PrometheusTest, PromtoolAcceptsTheSidecarsMetrics) {
  for (const auto& text : {metrics_before_strike_.second, scenario_->sidecar_metrics()}) {
    ASSERT_NE(text.find("lifeline_sidecar_heartbeats_total"), std::string::npos) << text;
    auto [code, out] = promtool_check_metrics(text);
    EXPECT_EQ(code, 0) << out;
    EXPECT_EQ(out, "") << out;
  }
}

TEST_F(PrometheusTest, EveryTargetIsScrapedWithTheDashboardLabels) {
  auto a = scenario_->prometheus().query(
      "count by (job, namespace) (up{job=\"lifeline-reaper\", namespace=\"lifeline\"} or "
      "up{job=\"lifeline-sidecars\", namespace=\"flows\", work_pool=~\"k8s|gpu\"})");
  ASSERT_TRUE(a.ok) << a.error;
  std::map<std::string, std::string> counts;
  for (const auto& r : a.data["result"]) counts[r["metric"].value("job", "")] = r["value"][1].get<std::string>();
  EXPECT_EQ(counts["lifeline-reaper"], "2");    // the reaper and the replica that is down
  EXPECT_EQ(counts["lifeline-sidecars"], "5");  // every pod, dead or alive
}

TEST_F(PrometheusTest, TheRulesFileLoadsAndEveryRuleEvaluates) {
  auto rules = scenario_->prometheus().rules();
  ASSERT_TRUE(rules.ok) << rules.error;
  std::set<std::string> groups;
  std::size_t n = 0;
  for (const auto& g : rules.data["groups"]) {
    groups.insert(g.value("name", ""));
    for (const auto& r : g["rules"]) {
      ++n;
      EXPECT_EQ(r.value("health", ""), "ok") << r.value("name", "") << ": " << r.value("lastError", "");
    }
  }
  EXPECT_EQ(groups, (std::set<std::string>{"lifeline.recording", "lifeline.alerts"}));
  EXPECT_GE(n, 18u);
}

TEST_F(PrometheusTest, EveryDashboardQueryReturnsData) {
  auto exprs = dashboard_expressions();
  EXPECT_GE(exprs.size(), 25u);
  expect_data(exprs);
}

TEST_F(PrometheusTest, EveryRuleExpressionReturnsData) {
  auto exprs = rule_expressions();
  EXPECT_GE(exprs.size(), 18u);
  expect_data(exprs);
}

// The alerts this scenario provokes are pending or firing (the rules file's `for:` keeps
// most of them pending in a one-minute run).
TEST_F(PrometheusTest, TheProvokedAlertsBecomeActive) {
  const std::set<std::string> expected = {"LifelineReaperReplicaDown", "LifelineSidecarLeaseAtRisk",
                                          "LifelineSidecarsStoppingWorkloads", "LifelineHeartbeatFailureRatioHigh"};
  std::set<std::string> active;
  wait_until(
      [&] {
        active.clear();
        auto a = scenario_->prometheus().query("ALERTS");
        if (a.ok)
          for (const auto& r : a.data["result"]) active.insert(r["metric"].value("alertname", ""));
        for (const auto& e : expected)
          if (active.count(e) == 0) return false;
        return true;
      },
      30s, 500ms);
  for (const auto& e : expected) EXPECT_EQ(active.count(e), 1u) << e << " is neither pending nor firing";
  for (const auto& name : kCertainlyInactive) EXPECT_EQ(active.count(name), 0u) << name << ": " << kSelectorOnly.at(name);
}

}  // namespace
}  // namespace lifeline::testing
