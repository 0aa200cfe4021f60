#include "reaper/api/lease_request.hpp"

#include <gtest/gtest.h>

namespace lifeline::reaper::api {
namespace {

using namespace std::chrono_literals;

constexpr const char* kId = "0D9C6A2E-5F3B-4C1A-9E8D-7B6A5C4D3E2F";
constexpr const char* kIdLower = "0d9c6a2e-5f3b-4c1a-9e8d-7b6a5c4d3e2f";

LeasesConfig bounds() {
  LeasesConfig c;
  c.min_ttl = 5s;
  c.max_ttl = 10min;
  return c;
}

TEST(MatchRoute, Paths) {
  EXPECT_EQ(match_route("/v1/leases/abc").route, Route::renew);
  EXPECT_EQ(match_route("/v1/leases/abc").run_id, "abc");
  EXPECT_STREQ(match_route("/v1/leases/abc").allowed, "PUT");
  EXPECT_EQ(match_route("/v1/leases/abc/release").route, Route::release);
  EXPECT_EQ(match_route("/v1/leases/abc/release").run_id, "abc");
  EXPECT_EQ(match_route("/v1/leases").route, Route::list);
  EXPECT_EQ(match_route("/healthz").route, Route::healthz);
  EXPECT_EQ(match_route("/readyz").route, Route::readyz);
  EXPECT_EQ(match_route("/metrics").route, Route::metrics);
  EXPECT_EQ(match_route("/v1/leases/abc/other").route, Route::not_found);
  EXPECT_EQ(match_route("/v1/lease").route, Route::not_found);
  EXPECT_EQ(match_route("/").route, Route::not_found);
}

TEST(ContentType, JsonWithParameters) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type(""));
  EXPECT_FALSE(is_json_content_type("application/jsonx"));
}

TEST(ParseRenew, ValidBodyIsNormalizedAndClamped) {
  auto r = parse_renew(kId, R"({"holder":"pod-a","node":"n1","ttl_seconds":30,"seq":12,"phase":"terminating"})",
                       bounds());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->run_id, kIdLower);
  EXPECT_EQ(r->holder, "pod-a");
  EXPECT_EQ(r->node, "n1");
  EXPECT_EQ(r->ttl, 30s);
  EXPECT_EQ(r->seq, 12);
  EXPECT_EQ(r->phase, LeasePhase::terminating);
  EXPECT_EQ(parse_renew(kId, R"({"holder":"a","ttl_seconds":1})", bounds())->ttl, 5s);
  EXPECT_EQ(parse_renew(kId, R"({"holder":"a","ttl_seconds":1e9})", bounds())->ttl, 10min);
  EXPECT_EQ(parse_renew(kId, R"({"holder":"a","ttl_seconds":7.5})", bounds())->ttl, 7500ms);
}

TEST(ParseRenew, OptionalFieldsDefault) {
  auto r = parse_renew(kId, R"({"holder":"a","ttl_seconds":30})", bounds());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->node, "");
  EXPECT_EQ(r->seq, 0);
  EXPECT_EQ(r->phase, LeasePhase::running);
}

TEST(ParseRenew, MalformedRequestsAreRefused) {
  struct Case {
    const char* run_id;
    const char* body;
    const char* why;
  };
  const Case cases[] = {
      {"not-a-uuid", R"({"holder":"a","ttl_seconds":30})", "UUID"},
      {kId, "", "not valid JSON"},
      {kId, "{", "not valid JSON"},
      {kId, "[]", "JSON object"},
      {kId, R"({"ttl_seconds":30})", "\"holder\" is required"},
      {kId, R"({"holder":"","ttl_seconds":30})", "must not be empty"},
      {kId, R"({"holder":5,"ttl_seconds":30})", "\"holder\" must be a string"},
      {kId, R"({"holder":"a"})", "\"ttl_seconds\" is required"},
      {kId, R"({"holder":"a","ttl_seconds":"30"})", "must be a number"},
      {kId, R"({"holder":"a","ttl_seconds":0})", "greater than 0"},
      {kId, R"({"holder":"a","ttl_seconds":-5})", "greater than 0"},
      {kId, R"({"holder":"a","ttl_seconds":30,"seq":-1})", "non-negative"},
      {kId, R"({"holder":"a","ttl_seconds":30,"seq":1.5})", "\"seq\" must be an integer"},
      {kId, R"({"holder":"a","ttl_seconds":30,"phase":"dying"})", "\"phase\""},
      {kId, R"({"holder":"a","ttl_seconds":30,"node":7})", "\"node\" must be a string"},
      {kId, R"({"holder":"a\u0000b","ttl_seconds":30})", "control character"},
      {kId, R"({"holder":"a","ttl_seconds":null})", "must be a number"},
      {kId, R"({"holder":{"name":"a"},"ttl_seconds":30})", "\"holder\" must be a string"},
      {kId, R"({"holder":"a","ttl_seconds":30,"seq":18446744073709551615})", "non-negative"},
      {kId, R"({"holder":"a","ttl_seconds":30,"phase":["running"]})", "\"phase\" must be a string"},
      {kId, R"({"holder":"a","ttl_seconds":30} trailing)", "not valid JSON"},
  };
  for (const auto& c : cases) {
    auto r = parse_renew(c.run_id, c.body, bounds());
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().code, "bad_request");
    EXPECT_NE(r.error().message.find(c.why), std::string::npos) << c.body << " -> " << r.error().message;
  }
  std::string long_holder(300, 'x');
  EXPECT_FALSE(parse_renew(kId, R"({"holder":")" + long_holder + R"(","ttl_seconds":30})", bounds()).ok());
}

TEST(ParseRelease, ValidAndInvalid) {
  auto r = parse_release(kId, R"({"holder":"a","outcome":"exited","exit_code":0})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, ReleaseOutcome::exited);
  EXPECT_EQ(r->exit_code, 0);
  auto e = parse_release(kId, R"({"holder":"a","outcome":"evicted"})");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->exit_code.has_value());
  EXPECT_FALSE(parse_release(kId, R"({"holder":"a","outcome":"exited"})").ok());
  EXPECT_FALSE(parse_release(kId, R"({"holder":"a","outcome":"vanished","exit_code":1})").ok());
  EXPECT_FALSE(parse_release(kId, R"({"outcome":"exited","exit_code":1})").ok());
  EXPECT_FALSE(parse_release(kId, R"({"holder":"a","outcome":"exited","exit_code":"1"})").ok());
  EXPECT_FALSE(parse_release(kId, R"({"holder":"a","outcome":"exited","exit_code":99999999999})").ok());
  EXPECT_FALSE(parse_release(kId, R"({"holder":"a","outcome":"exited","exit_code":18446744073709551615})").ok());
  EXPECT_FALSE(parse_release("x", R"({"holder":"a","outcome":"exited","exit_code":0})").ok());
  EXPECT_FALSE(parse_release(kId, R"({"holder":"a","outcome":"exited","exit_code":-99999999999})").ok());
  EXPECT_FALSE(parse_release(kId, R"({"holder":"a","outcome":"exited","exit_code":1.0})").ok());
  auto neg = parse_release(kId, R"({"holder":"a","outcome":"exited","exit_code":-2147483648})");
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(neg->exit_code, INT32_MIN);
  auto max = parse_release(kId, R"({"holder":"a","outcome":"exited","exit_code":2147483647})");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->exit_code, INT32_MAX);
  auto none = parse_release(kId, R"({"holder":"a","outcome":"evicted","exit_code":null})");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->exit_code.has_value());
}

TEST(ParseLeaseQuery, Filters) {
  http::Request req;
  req.query = "state=expired&limit=5&holder=pod%2Da&node=n+1";
  auto q = parse_lease_query(req);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->state, LeaseState::expired);
  EXPECT_EQ(q->limit, 5);
  EXPECT_EQ(q->holder, "pod-a");
  EXPECT_EQ(q->node, "n 1");
  req.query = "";
  EXPECT_EQ(parse_lease_query(req)->limit, kDefaultListLimit);
  for (const char* bad : {"state=dead", "limit=0", "limit=5000", "limit=x", "holder=%zz"}) {
    req.query = bad;
    EXPECT_FALSE(parse_lease_query(req).ok()) << bad;
  }
}

TEST(RenderRenew, Answers) {
  store::RenewResult ok{store::RenewStatus::renewed, 2, 30s, {}};
  auto r = render_renew(kIdLower, ok, nullptr);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::string(R"({"run_id":")") + kIdLower +
                        R"(","epoch":2,"ttl_seconds":30,"directive":"continue"})");
  std::string reason = "run is CANCELLING in Prefect";
  auto s = render_renew(kIdLower, ok, &reason);
  EXPECT_EQ(s.status, 200);
  EXPECT_NE(s.body.find(R"("directive":"stop","reason":"run is CANCELLING in Prefect")"), std::string::npos);
  store::RenewResult frac{store::RenewStatus::renewed, 1, 7500ms, {}};
  EXPECT_NE(render_renew(kIdLower, frac, nullptr).body.find("\"ttl_seconds\":7.5"), std::string::npos);
  store::RenewResult conflict{store::RenewStatus::conflict, 1, 30s, "lease is held by b"};
  auto c = render_renew(kIdLower, conflict, nullptr);
  EXPECT_EQ(c.status, 409);
  EXPECT_EQ(c.body, R"({"error":"holder_conflict","detail":"lease is held by b","directive":"stop"})");
  store::RenewResult down{store::RenewStatus::unavailable, 0, 30s, "database unreachable"};
  auto u = render_renew(kIdLower, down, nullptr);
  EXPECT_EQ(u.status, 503);
  EXPECT_NE(u.body.find(R"("error":"store_unavailable")"), std::string::npos);
}

}  // namespace
}  // namespace lifeline::reaper::api
