// Parsing of answers recorded against real Prefect servers (3.4.25 and 2.16.8).
#include <gtest/gtest.h>

#include <fstream>

#include "reaper/prefect/prefect_responses.hpp"

namespace lifeline::reaper::prefect {
namespace {

using nlohmann::json;

json golden(const std::string& version, const std::string& name) {
  std::ifstream in(std::string(LIFELINE_PREFECT_REFERENCE_DIR) + "/golden/" + version + "/" + name);
  if (!in) throw std::runtime_error("missing golden file " + name);
  return json::parse(in);
}

TEST(PrefectResponses, ReadsAFlowRunWithItsState) {
  json g = golden("3.4.25-postgres", "48-d-read-flow-run.json");
  auto r = parse_flow_run(g["response_body"]);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, "3b647643-0f60-4a87-88d1-d2aa8f41ee2a");
  EXPECT_EQ(r->deployment_id, "a7ed5eee-1112-4740-b37f-2b898179bbab");
  EXPECT_EQ(r->state_type(), "SCHEDULED");
  EXPECT_EQ(r->state->name, "AwaitingRetry");
  EXPECT_EQ(r->state->id, "01a208c8-565b-73e7-85a0-f1f028702bde");
  ASSERT_TRUE(r->state->scheduled_time.has_value());
  ASSERT_TRUE(r->state->timestamp.has_value());
  EXPECT_EQ(r->retry_type, "reschedule");
  EXPECT_EQ(r->run_count, 1);
  EXPECT_EQ(r->work_pool_name, "");
  EXPECT_EQ(r->state->transition_id, "");
}

TEST(PrefectResponses, ReadsAFilterAnswerFromBothServerVersions) {
  for (const char* v : {"3.4.25-postgres", "2.16.8-postgres"}) {
    json g = golden(v, "06-filter-running-1.json");
    auto r = parse_flow_runs(g["response_body"]);
    ASSERT_TRUE(r) << v << ": " << r.error().message;
    ASSERT_FALSE(r->empty());
    EXPECT_EQ((*r)[0].state_type(), "RUNNING") << v;
    EXPECT_EQ((*r)[0].deployment_id, "") << v;
  }
}

TEST(PrefectResponses, AcceptedCrashIs201AndCarriesTheNewState) {
  json g = golden("3.4.25-postgres", "46-d-set-state-crashed-unforced.json");
  auto r = parse_orchestration_result(g["response_body"], g["status"].get<int>());
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->accepted());
  EXPECT_EQ(r->http_status, 201);
  EXPECT_EQ(r->details_type, "accept_details");
  EXPECT_EQ(r->state->type, "CRASHED");
}

TEST(PrefectResponses, AbortWithoutDeploymentKeepsTheReason) {
  json g = golden("3.4.25-postgres", "08-set-state-awaiting-retry-unforced.json");
  auto r = parse_orchestration_result(g["response_body"], g["status"].get<int>());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "ABORT");
  EXPECT_EQ(r->details_type, "abort_details");
  EXPECT_EQ(r->reason, "Cannot reschedule a run without an associated deployment.");
  EXPECT_FALSE(r->duplicate_transition());
  EXPECT_EQ(r->state->type, "CRASHED");  // the run's current state
}

TEST(PrefectResponses, RecognisesTheDuplicateTransitionReject) {
  json body = {{"status", "REJECT"},
               {"details", {{"type", "reject_details"}, {"reason", "This run has already made this state transition."}}},
               {"state", {{"id", "01a208c8-565b-73e7-85a0-f1f028702bde"}, {"type", "CRASHED"}, {"name", "Crashed"}}}};
  auto r = parse_orchestration_result(body, 200);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->duplicate_transition());
  EXPECT_FALSE(r->accepted());
}

TEST(PrefectResponses, ReadsTaskRunsAndRejectsGarbage) {
  json g = golden("3.4.25-postgres", "58-c-create-task-run-1.json");
  auto t = parse_task_runs(json::array({g["response_body"]}));
  ASSERT_TRUE(t);
  EXPECT_FALSE((*t)[0].id.empty());
  EXPECT_FALSE(parse_flow_run(json::array()));
  EXPECT_FALSE(parse_flow_runs(json::object()));
  EXPECT_FALSE(parse_orchestration_result(json{{"state", nullptr}}, 200));
}

}  // namespace
}  // namespace lifeline::reaper::prefect
