#include "sidecar/heartbeat_protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lifeline::sidecar {
namespace {

using nlohmann::json;

TEST(HeartbeatProtocol, RequestBodyHasTheContractFields) {
  HeartbeatRequest r{"flow-run-abc-xyz12", "node-7", Duration(30'000), 12, Phase::running};
  json j = json::parse(heartbeat_body(r));
  EXPECT_EQ(j, json({{"holder", "flow-run-abc-xyz12"}, {"node", "node-7"}, {"ttl_seconds", 30},
                     {"seq", 12}, {"phase", "running"}}));
  r.phase = Phase::terminating;
  r.ttl = Duration(1500);  // rounded up: never ask for less than configured
  j = json::parse(heartbeat_body(r));
  EXPECT_EQ(j["phase"], "terminating");
  EXPECT_EQ(j["ttl_seconds"], 2);
}

TEST(HeartbeatProtocol, ReleaseBody) {
  EXPECT_EQ(json::parse(release_body("pod", ReleaseOutcome::evicted, 143)),
            json({{"holder", "pod"}, {"outcome", "evicted"}, {"exit_code", 143}}));
  EXPECT_EQ(json::parse(release_body("pod", ReleaseOutcome::exited, 0))["outcome"], "exited");
}

TEST(HeartbeatProtocol, Paths) {
  EXPECT_EQ(lease_path("", "abc"), "/v1/leases/abc");
  EXPECT_EQ(release_path("/lifeline", "abc"), "/lifeline/v1/leases/abc/release");
}

TEST(HeartbeatProtocol, ContinueRenews) {
  auto a = decode_heartbeat_answer(200, R"({"run_id":"r","epoch":3,"ttl_seconds":20,"directive":"continue"})");
  EXPECT_EQ(a.kind, HeartbeatAnswer::Kind::renewed);
  EXPECT_EQ(a.epoch, 3);
  EXPECT_EQ(a.granted_ttl, Duration(20'000));
}

TEST(HeartbeatProtocol, StopDirectiveCarriesTheReason) {
  auto a = decode_heartbeat_answer(200, R"({"run_id":"r","epoch":1,"ttl_seconds":30,"directive":"stop","reason":"cancelled"})");
  EXPECT_EQ(a.kind, HeartbeatAnswer::Kind::stop);
  EXPECT_EQ(a.reason, "cancelled");
}

TEST(HeartbeatProtocol, ConflictMeansStop) {
  auto a = decode_heartbeat_answer(409, R"({"error":"holder_conflict","detail":"held by pod-2","directive":"stop"})");
  EXPECT_EQ(a.kind, HeartbeatAnswer::Kind::stop);
  EXPECT_EQ(a.reason, "held by pod-2");
}

TEST(HeartbeatProtocol, EverythingElseIsAFailedHeartbeat) {
  EXPECT_EQ(decode_heartbeat_answer(503, R"({"error":"store_unavailable","detail":"x"})").kind,
            HeartbeatAnswer::Kind::failed);
  EXPECT_EQ(decode_heartbeat_answer(401, "").kind, HeartbeatAnswer::Kind::failed);
  EXPECT_EQ(decode_heartbeat_answer(200, "not json").kind, HeartbeatAnswer::Kind::failed);
  EXPECT_EQ(decode_heartbeat_answer(200, R"({"directive":"continue"})").kind, HeartbeatAnswer::Kind::failed);
  EXPECT_EQ(decode_heartbeat_answer(200, R"({"directive":"dance","ttl_seconds":5})").kind,
            HeartbeatAnswer::Kind::failed);
  auto a = decode_heartbeat_answer(503, R"({"error":"store_unavailable","detail":"db down"})");
  EXPECT_NE(a.reason.find("503"), std::string::npos);
  EXPECT_NE(a.reason.find("db down"), std::string::npos);
}

TEST(HeartbeatProtocol, AnAbsurdGrantedTtlIsAFailedHeartbeatNotAnOverflow) {
  // Found by tests/fuzz: 1e300 seconds overflowed the conversion and the fencing deadline.
  for (const char* body : {R"({"directive":"continue","ttl_seconds":1e300})",
                           R"({"directive":"continue","ttl_seconds":604801})",
                           R"({"directive":"continue","ttl_seconds":-1})"})
    EXPECT_EQ(decode_heartbeat_answer(200, body).kind, HeartbeatAnswer::Kind::failed) << body;
  EXPECT_EQ(decode_heartbeat_answer(200, R"({"directive":"continue","ttl_seconds":604800})").granted_ttl,
            Duration(604'800'000));
}

}  // namespace
}  // namespace lifeline::sidecar
