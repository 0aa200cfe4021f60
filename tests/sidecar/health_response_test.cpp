#include "sidecar/health_server.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lifeline::sidecar {
namespace {

http::Request get(std::string path) {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  return r;
}

TEST(HealthResponse, ReadyFollowsTheLease) {
  SidecarMetrics m;
  HealthSnapshot s;
  s.lease_state = "acquiring";
  EXPECT_EQ(health_response(get("/healthz"), s, m).status, 200);
  EXPECT_EQ(health_response(get("/readyz"), s, m).status, 503);
  s.ready = true;
  EXPECT_EQ(health_response(get("/readyz"), s, m).status, 200);
  EXPECT_EQ(health_response(get("/nope"), s, m).status, 404);
}

TEST(HealthResponse, StatusJson) {
  SidecarMetrics m;
  HealthSnapshot s;
  s.run_id = "r";
  s.holder = "pod";
  s.epoch = 2;
  s.lease_state = "held";
  s.last_ack_age_s = 1.5;
  s.consecutive_failures = 1;
  s.workload_pids = {42};
  s.fencing = false;
  auto j = nlohmann::json::parse(health_response(get("/status"), s, m).body);
  EXPECT_EQ(j["run_id"], "r");
  EXPECT_EQ(j["holder"], "pod");
  EXPECT_EQ(j["epoch"], 2);
  EXPECT_EQ(j["lease_state"], "held");
  EXPECT_EQ(j["seconds_since_last_ack"], 1.5);
  EXPECT_EQ(j["consecutive_failures"], 1);
  EXPECT_EQ(j["workload_pid"], 42);
  EXPECT_EQ(j["fencing"], "off");
}

TEST(HealthResponse, MetricsUseTheContractNames) {
  SidecarMetrics m;
  m.count_heartbeat("ok");
  m.count_heartbeat("ok");
  m.count_stop("unreachable");
  m.heartbeat_duration.observe(0.003);
  m.lease_ttl_seconds = 30;
  HealthSnapshot s;
  s.last_ack_age_s = 2;
  auto body = health_response(get("/metrics"), s, m).body;
  EXPECT_NE(body.find("lifeline_sidecar_heartbeats_total{result=\"ok\"} 2\n"), std::string::npos) << body;
  EXPECT_NE(body.find("lifeline_sidecar_heartbeats_total{result=\"timeout\"} 0\n"), std::string::npos);
  EXPECT_NE(body.find("lifeline_sidecar_heartbeat_duration_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(body.find("lifeline_sidecar_heartbeat_duration_seconds_bucket{le=\"0.0025\"} 0\n"), std::string::npos);
  EXPECT_NE(body.find("lifeline_sidecar_heartbeat_duration_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(body.find("lifeline_sidecar_last_ack_age_seconds 2\n"), std::string::npos);
  EXPECT_NE(body.find("lifeline_sidecar_lease_ttl_seconds 30\n"), std::string::npos);
  EXPECT_NE(body.find("lifeline_sidecar_workload_stops_total{reason=\"unreachable\"} 1\n"), std::string::npos);
  EXPECT_NE(body.find("# TYPE lifeline_sidecar_heartbeat_duration_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace lifeline::sidecar
