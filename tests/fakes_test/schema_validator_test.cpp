// The schema validator: every request body a real Prefect server accepted in the golden
// exchanges passes, the one it rejected (golden 26) fails with Prefect's exact error, and
// the keywords behave as pydantic does.
#include <gtest/gtest.h>

#include <memory>

#include "tests/fakes/openapi_catalog.hpp"
#include "tests/fakes/route_table.hpp"
#include "tests/fakes/schema_validator.hpp"
#include "tests/fakes_test/golden_exchanges.hpp"

namespace lifeline::fake_prefect::testing {
namespace {

class SchemaValidatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    catalog_ = OpenApiCatalog::load(default_openapi_path(), error).release();
    ASSERT_NE(catalog_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete catalog_;
    catalog_ = nullptr;
  }
  const SchemaValidator& v() const { return catalog_->validator(); }

  // The operation serving `method path` (path relative to /api, no query).
  const Operation* operation(const std::string& method, const std::string& path) const {
    RouteTable table;
    const Json& paths = catalog_->validator().document()["paths"];
    for (auto p = paths.begin(); p != paths.end(); ++p) table.add(method, p.key(), nullptr);
    auto m = table.match(method, path);
    auto* match = std::get_if<RouteTable::Match>(&m);
    return match ? catalog_->find(method, match->route->path_template) : nullptr;
  }

  static OpenApiCatalog* catalog_;
};

OpenApiCatalog* SchemaValidatorTest::catalog_ = nullptr;

Json parse(const char* text) { return Json::parse(text); }

TEST_F(SchemaValidatorTest, AcceptsEveryGoldenBodyTheRealServerAccepted) {
  int checked = 0;
  for (const char* version : {"3.4.25-postgres", "2.16.8-postgres"}) {
    for (const auto& ex : load_golden(version)) {
      if (ex.request_body.is_null() || ex.status == 422) continue;
      SCOPED_TRACE(std::string(version) + "/" + ex.file);
      std::string path = ex.path.substr(4, ex.path.find('?') == std::string::npos ? std::string::npos : ex.path.find('?') - 4);
      const Operation* op = operation(ex.method, path);
      ASSERT_NE(op, nullptr) << ex.method << " " << path;
      ASSERT_NE(op->body_schema, nullptr);
      auto errors = v().validate(*op->body_schema, ex.request_body, Json::array({"body"}));
      for (const auto& e : errors) ADD_FAILURE() << to_json(e).dump();
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
}

TEST_F(SchemaValidatorTest, RejectsGolden26WithPrefectsExactError) {
  for (const auto& ex : load_golden("3.4.25-postgres")) {
    if (ex.number != 26) continue;
    const Operation* op = operation("POST", "/flow_runs/{id}/set_state");
    ASSERT_NE(op, nullptr);
    auto errors = v().validate(*op->body_schema, ex.request_body, Json::array({"body"}));
    Json got = Json::array();
    for (const auto& e : errors) got.push_back(to_json(e));
    EXPECT_EQ(got, ex.response_body["exception_detail"]);
    return;
  }
  FAIL() << "golden 26 not found";
}

TEST_F(SchemaValidatorTest, StateCreateForbidsUnknownFields) {
  auto errors = v().validate_component("StateCreate", parse(R"({"type": "CRASHED", "reason": "x"})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "extra_forbidden");
  EXPECT_EQ(errors[0].loc, parse(R"(["reason"])"));
  EXPECT_EQ(errors[0].msg, "Extra inputs are not permitted");
}

TEST_F(SchemaValidatorTest, WrongEnumValueIsRejected) {
  auto errors = v().validate_component("FlowRunSort", Json("NEWEST_FIRST"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "enum");
  EXPECT_TRUE(v().validate_component("FlowRunSort", Json("START_TIME_DESC")).empty());
}

TEST_F(SchemaValidatorTest, MissingRequiredFieldIsReported) {
  auto errors = v().validate_component("StateCreate", parse(R"({"name": "Crashed"})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "missing");
  EXPECT_EQ(errors[0].loc, parse(R"(["type"])"));
  EXPECT_EQ(errors[0].msg, "Field required");
}

TEST_F(SchemaValidatorTest, UuidFormatIsChecked) {
  Json body = parse(R"({"flow_runs": {"id": {"any_": ["not-a-uuid"]}}})");
  auto errors = v().validate_component("Body_read_flow_runs_flow_runs_filter_post", body, Json::array({"body"}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "uuid_parsing");
  EXPECT_EQ(errors[0].loc, parse(R"(["body", "flow_runs", "id", "any_", 0])"));
  // pydantic also takes upper case and the 32-digit form.
  EXPECT_TRUE(v().validate_component("Body_read_flow_runs_flow_runs_filter_post",
                                     parse(R"({"flow_runs": {"id": {"any_": ["3B647643-0F60-4A87-88D1-D2AA8F41EE2A",
                                                                               "3b6476430f604a8788d1d2aa8f41ee2a"]}}})"))
                  .empty());
}

TEST_F(SchemaValidatorTest, DateTimeFormatIsChecked) {
  EXPECT_TRUE(v().validate_component("StateDetails", parse(R"({"scheduled_time": "2026-11-23T14:21:43.655144+00:00"})")).empty());
  EXPECT_TRUE(v().validate_component("StateDetails", parse(R"({"scheduled_time": "2026-11-23T14:21:43Z"})")).empty());
  auto errors = v().validate_component("StateDetails", parse(R"({"scheduled_time": "in ten seconds"})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].loc, parse(R"(["scheduled_time"])"));
}

TEST_F(SchemaValidatorTest, NullableFieldsTakeNullAndTheirType) {
  EXPECT_TRUE(v().validate_component("StateCreate", parse(R"({"type": "CRASHED", "message": null})")).empty());
  auto errors = v().validate_component("StateCreate", parse(R"({"type": "CRASHED", "message": 5})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "string_type");
}

TEST_F(SchemaValidatorTest, MinimumAndMaximumAreChecked) {
  const char* renew = "Body_renew_concurrency_lease_v2_concurrency_limits_leases__lease_id__renew_post";
  EXPECT_TRUE(v().validate_component(renew, parse(R"({"lease_duration": 60})")).empty());
  auto low = v().validate_component(renew, parse(R"({"lease_duration": 5})"));
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0].type, "greater_than_equal");
  EXPECT_EQ(low[0].msg, "Input should be greater than or equal to 60");
  auto high = v().validate_component(renew, parse(R"({"lease_duration": 100000})"));
  ASSERT_EQ(high.size(), 1u);
  EXPECT_EQ(high[0].type, "less_than_equal");
}

TEST_F(SchemaValidatorTest, EventRequiresItsFieldsAndStringResourceLabels) {
  Json good = parse(R"({"id": "8dbf827b-b04a-489b-8dde-0de029cef6b5", "occurred": "2026-11-23T14:21:18Z",
                        "event": "lifeline.run.reaped", "resource": {"prefect.resource.id": "prefect.flow-run.x"},
                        "related": [{"prefect.resource.id": "a", "prefect.resource.role": "b"}]})");
  EXPECT_TRUE(v().validate_component("Event", good).empty());
  Json bad = good;
  bad.erase("occurred");
  bad["resource"]["count"] = 3;  // resource labels are strings
  auto errors = v().validate_component("Event", bad);
  ASSERT_EQ(errors.size(), 2u);
  std::set<std::string> types{errors[0].type, errors[1].type};
  EXPECT_TRUE(types.count("missing"));
  EXPECT_TRUE(types.count("string_type"));
}

// Keywords on inline schemas, independent of Prefect's document.
TEST(SchemaKeywords, TypeListsConstItemsAndAllOf) {
  SchemaValidator v(parse(R"({"components": {"schemas": {"Pos": {"type": "integer", "exclusiveMinimum": 0}}}})"));
  Json schema = parse(R"({"type": "object", "properties": {
      "a": {"type": ["string", "null"]},
      "b": {"const": "x"},
      "c": {"type": "array", "items": {"$ref": "#/components/schemas/Pos"}, "maxItems": 2},
      "d": {"allOf": [{"type": "string", "minLength": 2}, {"type": "string", "pattern": "^a"}]}},
      "additionalProperties": {"type": "boolean"}})");
  EXPECT_TRUE(v.validate(schema, parse(R"({"a": null, "b": "x", "c": [1, "2"], "d": "ab", "e": true})")).empty());
  auto errors = v.validate(schema, parse(R"({"a": 1, "b": "y", "c": [1, 0, 3], "d": "b", "e": "maybe"})"));
  std::multiset<std::string> types;
  for (const auto& e : errors) types.insert(e.type);
  EXPECT_EQ(types, (std::multiset<std::string>{"string_type", "literal_error", "too_long", "greater_than",
                                                "string_too_short", "string_pattern_mismatch", "bool_parsing"}));
}

}  // namespace
}  // namespace lifeline::fake_prefect::testing
