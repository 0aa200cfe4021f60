#include "sidecar/metrics.hpp"

#include <cstdio>

namespace lifeline::sidecar {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void counter_family(std::string& out, const char* name, const char* label, const char* help,
                    const std::map<std::string, std::uint64_t>& values, std::initializer_list<const char*> always) {
  header(out, name, "counter", help);
  std::map<std::string, std::uint64_t> all = values;
  for (const char* k : always) all.try_emplace(k, 0);  // series exist from the start (rate() works)
  for (const auto& [k, v] : all)
    out += std::string(name) + "{" + label + "=\"" + k + "\"} " + std::to_string(v) + "\n";
}

}  // namespace

void Histogram::observe(double seconds) {
  ++count_;
  sum_ += seconds;
  for (std::size_t i = 0; i < kBounds.size(); ++i)
    if (seconds <= kBounds[i]) ++counts_[i];
}

void Histogram::render(std::string& out, const std::string& name) const {
  for (std::size_t i = 0; i < kBounds.size(); ++i)
    out += name + "_bucket{le=\"" + number(kBounds[i]) + "\"} " + std::to_string(counts_[i]) + "\n";
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

std::string SidecarMetrics::render(std::optional<double> last_ack_age_seconds) const {
  std::string out;
  out.reserve(2048);
  counter_family(out, "lifeline_sidecar_heartbeats_total", "result", "Heartbeats sent, by result.", heartbeats,
                 {"ok", "error", "timeout", "stop"});
  header(out, "lifeline_sidecar_heartbeat_duration_seconds", "histogram",
         "Time from sending a heartbeat to its answer (or failure).");
  heartbeat_duration.render(out, "lifeline_sidecar_heartbeat_duration_seconds");
  header(out, "lifeline_sidecar_last_ack_age_seconds", "gauge",
         "Seconds since the last acknowledged heartbeat was sent (-1 before the first).");
  out += "lifeline_sidecar_last_ack_age_seconds " + number(last_ack_age_seconds.value_or(-1)) + "\n";
  header(out, "lifeline_sidecar_lease_ttl_seconds", "gauge", "Lease TTL granted by the reaper.");
  out += "lifeline_sidecar_lease_ttl_seconds " + number(lease_ttl_seconds) + "\n";
  counter_family(out, "lifeline_sidecar_workload_stops_total", "reason", "Workload stops by the sidecar, by reason.",
                 workload_stops, {"unreachable", "stop_directive"});
  return out;
}

}  // namespace lifeline::sidecar
