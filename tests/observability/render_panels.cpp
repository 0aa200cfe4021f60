// render_panels: draws the overview dashboard's key panels (heartbeat rate, leases by
// state, reaps by reason and outcome, detection delay p50/p99) from a real Prometheus
// that watched the ObservedScenario, for dashboards/README.md. The panels' own queries
// are taken from dashboards/lifeline-overview.json, evaluated with /api/v1/query_range,
// dumped to CSV and drawn with gnuplot (Debian package gnuplot-nox).
//
//   render_panels OUTPUT.png [CSV_DIR]
//
// Takes about a minute and a half. The CSV files and the gnuplot script stay in CSV_DIR
// (default: a new temporary directory, printed at the end).

#include <algorithm>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "tests/observability/observed_scenario.hpp"
#include "tests/observability/promql_text.hpp"
#include "tests/support/wait.hpp"

using namespace lifeline::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct PanelPlot {
  std::string title;
  std::string ylabel;
};

// The panels drawn, in reading order (2 x 2).
const std::vector<PanelPlot> kPanels = {
    {"Heartbeat rate by result", "heartbeats/s (all sidecars)"},
    {"Leases by state", "leases"},
    {"Reaps by reason and outcome", "runs reaped (increase)"},
    {"Detection delay", "seconds"},
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Grafana's legendFormat: {{label}} replaced by the series' label value.
std::string legend_of(const std::string& format, const nlohmann::json& metric) {
  if (format.empty()) return metric.dump();
  static const std::regex label(R"(\{\{\s*(\w+)\s*\}\})");
  std::string out;
  std::size_t last = 0;
  for (auto it = std::sregex_iterator(format.begin(), format.end(), label); it != std::sregex_iterator(); ++it) {
    out.append(format, last, static_cast<std::size_t>(it->position(0)) - last);
    out += metric.value((*it)[1].str(), std::string());
    last = static_cast<std::size_t>(it->position(0) + it->length(0));
  }
  return out + format.substr(last);
}

std::string gnuplot_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '_') out += "\\\\";  // no subscripts in titles
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::cerr << "usage: render_panels OUTPUT.png [CSV_DIR]\n";
    return argc < 2 ? 2 : 0;
  }
  const fs::path output = fs::absolute(argv[1]);
  try {
    if (!PrometheusServer::find_binary()) throw std::runtime_error("prometheus is not installed");
    fs::path csv_dir;
    if (argc > 2) {
      csv_dir = fs::absolute(argv[2]);
      fs::create_directories(csv_dir);
    } else {
      char tmpl[] = "/tmp/lifeline-panels-XXXXXX";
      if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
      csv_dir = tmpl;
    }

    std::cerr << "starting PostgreSQL, fake Prefect, the reaper, five pods and Prometheus\n";
    ObservedScenario scenario;
    // Let the healthy picture show for a while before the trouble: ten more scrapes.
    auto scrapes = [&] {
      auto a = scenario.prometheus().query("count_over_time(lifeline_reaper_ready[10m])");
      return a.ok && !a.data["result"].empty() ? std::stod(a.data["result"][0]["value"][1].get<std::string>()) : 0.0;
    };
    double before = scrapes();
    wait_until([&] { return scrapes() >= before + 10; }, 60s, 200ms);
    std::cerr << "striking: a pod vanishes, one is evicted, two lose the reaper\n";
    scenario.strike();
    if (!scenario.wait_settled(60s)) throw std::runtime_error("scenario did not settle: " + scenario.why());
    before = scrapes();
    wait_until([&] { return scrapes() >= before + 25; }, 90s, 200ms);

    auto dashboard = nlohmann::json::parse(read_text(fs::path(LIFELINE_DASHBOARDS_DIR) / "lifeline-overview.json"));
    auto variables = scenario.grafana_variables();
    // Grafana's $__rate_interval for a 1 s scrape is 4 s; a little more smooths the curves.
    variables["__rate_interval"] = "10s";
    // What the detection delay panel summarises, in numbers.
    for (const char* q : {"lifeline_reaper_detection_delay_seconds_bucket", "lifeline_reaper_detection_delay_seconds_sum",
                          "lifeline_reaper_reaps_total"}) {
      auto a = scenario.prometheus().query(q);
      for (const auto& r : a.data["result"]) std::cerr << "  " << r["metric"].dump() << " " << r["value"][1] << "\n";
    }
    const double start = scenario.started_at();
    const double end = lifeline::testing::unix_now();

    std::ostringstream gp;
    gp << "set terminal pngcairo size 1400,860 font 'DejaVu Sans,10'\n"
       << "set output " << gnuplot_quoted(output.string()) << "\n"
       << "set datafile separator ','\n"
       << "set multiplot layout 2,2 title 'lifeline overview: one reaper, five pods (one vanishes, one evicted, "
          "two partitioned) at t = "
       << static_cast<int>(scenario.struck_at() - start) << " s (dashed line)' font ',13'\n"
       << "set grid lc rgb '#dddddd'\nset key top left font ',9' opaque\nset xlabel 'seconds since Prometheus "
          "started'\nset border lc rgb '#888888'\n"
       << "set arrow from " << scenario.struck_at() - start << ", graph 0 to " << scenario.struck_at() - start
       << ", graph 1 nohead dt 2 lc rgb '#cc0000'\n";
    std::size_t files = 0;
    for (const auto& panel : kPanels) {
      std::vector<std::string> plots;
      for (const auto& q : dashboard_queries(dashboard)) {
        if (q.panel != panel.title) continue;
        std::vector<std::string> unknown;
        auto expr = substitute_variables(q.expr, variables, &unknown);
        auto a = scenario.prometheus().query_range(expr, start, end, 1.0);
        if (!a.ok) throw std::runtime_error(panel.title + ": " + a.error);
        for (const auto& series : a.data["result"]) {
          // The reaper creates every known label combination at 0; a series that never left 0
          // says nothing in a picture (Grafana hides it the same way with "hide zero").
          bool all_zero = std::all_of(series["values"].begin(), series["values"].end(), [](const auto& v) {
            const std::string& x = v[1].template get_ref<const std::string&>();
            return x == "0" || x == "NaN";
          });
          if (all_zero) continue;
          fs::path csv = csv_dir / ("series-" + std::to_string(++files) + ".csv");
          std::ofstream out(csv);
          std::string legend = legend_of(q.legend, series["metric"]);
          out << "# " << panel.title << ": " << legend << "\n# t_seconds,value\n";
          for (const auto& v : series["values"]) {
            std::string value = v[1].get<std::string>();
            if (value == "NaN") continue;
            out << (v[0].get<double>() - start) << "," << value << "\n";
          }
          plots.push_back(gnuplot_quoted(csv.string()) + " using 1:2 with lines lw 2 title " + gnuplot_quoted(legend));
        }
      }
      gp << "set title " << gnuplot_quoted(panel.title) << " font ',12'\nset ylabel " << gnuplot_quoted(panel.ylabel)
         << "\nset yrange [0:*]\n";
      if (plots.empty()) {
        gp << "set label 1 'no data' at graph 0.5, graph 0.5 center\nplot [0:" << end - start << "] NaN notitle\n"
           << "unset label 1\n";
      } else {
        gp << "plot [0:" << end - start << "] ";
        for (std::size_t i = 0; i < plots.size(); ++i) gp << (i ? ", \\\n     " : "") << plots[i];
        gp << "\n";
      }
    }
    gp << "unset multiplot\n";
    fs::path script = csv_dir / "overview.gp";
    std::ofstream(script) << gp.str();
    fs::create_directories(output.parent_path());
    std::string cmd = "gnuplot " + script.string();
    int status = std::system(cmd.c_str());
    if (status != 0) throw std::runtime_error("gnuplot failed (Debian package gnuplot-nox): " + cmd);
    std::cout << "wrote " << output.string() << " (data and script in " << csv_dir.string() << ")\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "render_panels: " << e.what() << "\n";
    return 1;
  }
}
