// Flow runs: create, read, filter, count, set_state, and their state history.
#include "tests/fakes/prefect_routes.hpp"
#include "tests/fakes/run_filter.hpp"
#include "tests/fakes/serializers.hpp"
#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {

namespace {

std::optional<std::string> uuid_field(const Json& obj, const char* key) {
  auto s = string_field(obj, key);
  if (!s) return std::nullopt;
  return canonical_uuid(*s).value_or(*s);
}

}  // namespace

void add_flow_run_routes(RouteTable& routes, RouteContext& ctx) {
  routes.add("POST", "/flow_runs/", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const Json& b = req.body;
    FlowRunSpec spec;
    spec.flow_id = uuid_field(b, "flow_id").value_or("");
    spec.name = string_field(b, "name");
    spec.deployment_id = uuid_field(b, "deployment_id");
    spec.work_pool_name = string_field(b, "work_pool_name");
    spec.work_queue_name = string_field(b, "work_queue_name");
    spec.parent_task_run_id = uuid_field(b, "parent_task_run_id");
    spec.idempotency_key = string_field(b, "idempotency_key");
    spec.flow_version = string_field(b, "flow_version");
    spec.tags = b.value("tags", Json::array());
    spec.labels = b.value("labels", Json::object());
    spec.parameters = b.value("parameters", Json::object());
    spec.context = b.value("context", Json::object());
    spec.job_variables = b.value("job_variables", Json::object());
    spec.empirical_policy = b.value("empirical_policy", Json());
    if (auto s = b.find("state"); s != b.end() && s->is_object()) spec.state = parse_state_create(*s);
    bool created = false;
    auto run = ctx.store.create_flow_run(std::move(spec), ctx.now(), &created);
    if (failed(run)) return std::get<ApiError>(run);
    return json_reply(created ? 201 : 200, to_json(*std::get<const FlowRun*>(run), ctx.now()));
  });

  routes.add("GET", "/flow_runs/{id}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const FlowRun* run = ctx.store.flow_run(id_param(req, "id"));
    if (!run) return api_error(404, "Flow run not found");
    return json_reply(200, to_json(*run, ctx.now()));
  });

  routes.add("POST", "/flow_runs/filter", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    auto page = page_of(req.body);
    if (failed(page)) return std::get<ApiError>(page);
    auto runs = select_flow_runs(ctx.store, req.body);
    if (failed(runs)) return std::get<ApiError>(runs);
    auto& selected = std::get<std::vector<const FlowRun*>>(runs);
    sort_flow_runs(selected, req.body.is_object() ? req.body.value("sort", "ID_DESC") : "ID_DESC");
    Json out = Json::array();
    WallTime now = ctx.now();
    for (const FlowRun* r : apply_page(selected, std::get<Page>(page))) out.push_back(to_json(*r, now));
    return json_reply(200, std::move(out));
  });

  routes.add("POST", "/flow_runs/count", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    auto runs = select_flow_runs(ctx.store, req.body);
    if (failed(runs)) return std::get<ApiError>(runs);
    return json_reply(200, std::get<std::vector<const FlowRun*>>(runs).size());
  });

  routes.add("POST", "/flow_runs/{id}/set_state", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    StateInput in = parse_state_create(req.body.value("state", Json::object()));
    bool force = req.body.value("force", false);
    auto outcome = ctx.store.set_flow_run_state(id_param(req, "id"), in, force, ctx.now());
    if (failed(outcome)) return std::get<ApiError>(outcome);
    return orchestration_reply(std::get<SetStateOutcome>(outcome));
  });

  routes.add("GET", "/flow_run_states/", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    std::string id = req.query_value("flow_run_id");
    id = canonical_uuid(id).value_or(id);
    Json out = Json::array();
    // Prefect answers an empty list for an unknown run.
    if (const FlowRun* run = ctx.store.flow_run(id)) {
      for (const State& s : run->states) out.push_back(to_json(s));
    }
    return json_reply(200, std::move(out));
  });

  routes.add("GET", "/flow_run_states/{id}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    std::string id = id_param(req, "id");
    for (const auto& [rid, run] : ctx.store.flow_runs()) {
      for (const State& s : run.states) {
        if (s.id == id) return json_reply(200, to_json(s));
      }
    }
    return api_error(404, "Flow run state not found");
  });
}

}  // namespace lifeline::fake_prefect
