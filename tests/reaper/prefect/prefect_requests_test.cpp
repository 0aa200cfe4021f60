// Every request body lifeline sends to Prefect, validated against the server's own OpenAPI
// schema (the fake's validator), plus the fields that carry meaning.
#include <gtest/gtest.h>

#include "reaper/prefect/prefect_requests.hpp"
#include "shared/time_format.hpp"
#include "tests/fakes/openapi_catalog.hpp"
#include "tests/fakes/schema_validator.hpp"

namespace lifeline::reaper::prefect {
namespace {

using fake_prefect::SchemaValidator;
using nlohmann::json;

const SchemaValidator& validator() {
  static const std::unique_ptr<fake_prefect::OpenApiCatalog> catalog = [] {
    std::string error;
    auto c = fake_prefect::OpenApiCatalog::load(fake_prefect::default_openapi_path(), error);
    if (!c) throw std::runtime_error(error);
    return c;
  }();
  return catalog->validator();
}

// The schema errors of `body` against component `component`, "" when valid.
std::string errors_of(const std::string& component, const json& body) {
  std::string out;
  const auto instance = fake_prefect::Json::parse(body.dump());
  for (const auto& e : validator().validate_component(component, instance)) out += fake_prefect::to_json(e).dump() + "\n";
  return out;
}

const WallTime kT = *parse_rfc3339("2026-11-23T14:02:11Z");

TEST(PrefectRequests, CrashedProposalMatchesTheSchemaAndIsNeverForced) {
  json b = set_state_body({"CRASHED", "Crashed", "lifeline: no heartbeat", "6b0f5a3e-1c2d-5e4f-8a9b-0c1d2e3f4a5b", {}});
  EXPECT_EQ(errors_of("Body_set_flow_run_state_flow_runs__id__set_state_post", b), "");
  EXPECT_EQ(errors_of("Body_set_task_run_state_task_runs__id__set_state_post", b), "");
  EXPECT_EQ(b["force"], false);
  EXPECT_EQ(b["state"]["type"], "CRASHED");
  EXPECT_EQ(b["state"]["state_details"]["transition_id"], "6b0f5a3e-1c2d-5e4f-8a9b-0c1d2e3f4a5b");
  EXPECT_FALSE(b["state"]["state_details"].contains("scheduled_time"));
}

TEST(PrefectRequests, AwaitingRetryCarriesTheScheduledTime) {
  json b = set_state_body({"SCHEDULED", "AwaitingRetry", "retry", "6b0f5a3e-1c2d-5e4f-8a9b-0c1d2e3f4a5b", kT});
  EXPECT_EQ(errors_of("Body_set_flow_run_state_flow_runs__id__set_state_post", b), "");
  EXPECT_EQ(b["state"]["name"], "AwaitingRetry");
  EXPECT_EQ(b["state"]["state_details"]["scheduled_time"], "2026-11-23T14:02:11.000000Z");
}

TEST(PrefectRequests, AStrayStateFieldWouldBeRejectedByTheSchema) {
  // Guards the validator itself: StateCreate forbids unknown fields.
  json b = set_state_body({"CRASHED", "Crashed", "m", "", {}});
  b["state"]["force"] = true;
  EXPECT_NE(errors_of("Body_set_flow_run_state_flow_runs__id__set_state_post", b), "");
}

TEST(PrefectRequests, FilterBodiesMatchTheSchema) {
  const std::string id = "14d7c629-90d3-468e-a1b7-71ed2f9956b3";
  EXPECT_EQ(errors_of("Body_read_flow_runs_flow_runs_filter_post", flow_runs_by_id_body({id})), "");
  EXPECT_EQ(errors_of("Body_read_flow_runs_flow_runs_filter_post",
                      flow_runs_in_states_body({"RUNNING"}, {"k8s", "gpu"}, kT, 200, 400)),
            "");
  EXPECT_EQ(errors_of("Body_read_flow_runs_flow_runs_filter_post", flow_runs_in_states_body({"PENDING"}, {}, {}, 200, 0)),
            "");
  EXPECT_EQ(errors_of("Body_read_flow_runs_flow_runs_filter_post", subflow_runs_body({id}, 200, 0)), "");
  EXPECT_EQ(errors_of("Body_read_task_runs_task_runs_filter_post", active_task_runs_body({id}, 200, 0)), "");
  EXPECT_EQ(errors_of("Body_renew_concurrency_lease_v2_concurrency_limits_leases__lease_id__renew_post",
                      lease_renew_body(60)),
            "");
}

TEST(PrefectRequests, FilterBodiesSayWhatTheyMean) {
  const std::string id = "14d7c629-90d3-468e-a1b7-71ed2f9956b3";
  json t = active_task_runs_body({id}, 200, 0);
  EXPECT_EQ(t["task_runs"]["flow_run_id"]["any_"][0], id);
  EXPECT_EQ(t["task_runs"]["state"]["type"]["any_"], json({"RUNNING", "PENDING"}));
  EXPECT_EQ(t["limit"], 200);
  json s = subflow_runs_body({id}, 200, 0);
  EXPECT_EQ(s["flow_runs"]["parent_flow_run_id"]["any_"][0], id);
  EXPECT_EQ(s["flow_runs"]["deployment_id"]["is_null_"], true);
  json o = flow_runs_in_states_body({"RUNNING"}, {"k8s"}, kT, 200, 200);
  EXPECT_EQ(o["work_pools"]["name"]["any_"][0], "k8s");
  EXPECT_EQ(o["offset"], 200);
  EXPECT_EQ(o["flow_runs"]["start_time"]["before_"], "2026-11-23T14:02:11.000000Z");
  EXPECT_FALSE(flow_runs_in_states_body({"RUNNING"}, {}, {}, 200, 0).contains("work_pools"));
}

TEST(PrefectRequests, EventMatchesTheSchema) {
  EventSpec e;
  e.id = "9a4c1f3e-2b7d-4e8f-a1b2-c3d4e5f6a7b8";
  e.event = "lifeline.run.reaped";
  e.occurred = kT;
  e.flow_run_id = "14d7c629-90d3-468e-a1b7-71ed2f9956b3";
  e.flow_run_name = "golden-run-1";
  e.payload = {{"reason", "expired"}};
  json j = event_json(e);
  EXPECT_EQ(errors_of("Event", j), "");
  EXPECT_EQ(j["resource"]["prefect.resource.id"], "prefect.flow-run.14d7c629-90d3-468e-a1b7-71ed2f9956b3");
}

}  // namespace
}  // namespace lifeline::reaper::prefect
