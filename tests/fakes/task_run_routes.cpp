// Task runs: create, read, filter, count, set_state, and their state history.
#include "tests/fakes/prefect_routes.hpp"
#include "tests/fakes/run_filter.hpp"
#include "tests/fakes/serializers.hpp"
#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {

void add_task_run_routes(RouteTable& routes, RouteContext& ctx) {
  routes.add("POST", "/task_runs/", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const Json& b = req.body;
    TaskRunSpec spec;
    if (auto id = string_field(b, "id")) spec.id = canonical_uuid(*id).value_or(*id);
    if (auto fr = string_field(b, "flow_run_id")) spec.flow_run_id = canonical_uuid(*fr).value_or(*fr);
    spec.name = string_field(b, "name");
    spec.task_key = b.value("task_key", "");
    spec.dynamic_key = b.value("dynamic_key", "");
    spec.cache_key = string_field(b, "cache_key");
    spec.task_version = string_field(b, "task_version");
    spec.cache_expiration = b.value("cache_expiration", Json());
    spec.tags = b.value("tags", Json::array());
    spec.labels = b.value("labels", Json::object());
    spec.task_inputs = b.value("task_inputs", Json::object());
    spec.empirical_policy = b.value("empirical_policy", Json());
    if (auto s = b.find("state"); s != b.end() && s->is_object()) spec.state = parse_state_create(*s);
    bool created = false;
    auto run = ctx.store.create_task_run(std::move(spec), ctx.now(), &created);
    if (failed(run)) return std::get<ApiError>(run);
    return json_reply(created ? 201 : 200, to_json(*std::get<const TaskRun*>(run), ctx.now()));
  });

  routes.add("GET", "/task_runs/{id}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const TaskRun* run = ctx.store.task_run(id_param(req, "id"));
    if (!run) return api_error(404, "Task not found");
    return json_reply(200, to_json(*run, ctx.now()));
  });

  routes.add("POST", "/task_runs/filter", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    auto page = page_of(req.body);
    if (failed(page)) return std::get<ApiError>(page);
    auto runs = select_task_runs(ctx.store, req.body);
    if (failed(runs)) return std::get<ApiError>(runs);
    auto& selected = std::get<std::vector<const TaskRun*>>(runs);
    sort_task_runs(selected, req.body.is_object() ? req.body.value("sort", "ID_DESC") : "ID_DESC");
    Json out = Json::array();
    WallTime now = ctx.now();
    for (const TaskRun* r : apply_page(selected, std::get<Page>(page))) out.push_back(to_json(*r, now));
    return json_reply(200, std::move(out));
  });

  routes.add("POST", "/task_runs/count", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    auto runs = select_task_runs(ctx.store, req.body);
    if (failed(runs)) return std::get<ApiError>(runs);
    return json_reply(200, std::get<std::vector<const TaskRun*>>(runs).size());
  });

  routes.add("POST", "/task_runs/{id}/set_state", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    StateInput in = parse_state_create(req.body.value("state", Json::object()));
    bool force = req.body.value("force", false);
    auto outcome = ctx.store.set_task_run_state(id_param(req, "id"), in, force, ctx.now());
    if (failed(outcome)) return std::get<ApiError>(outcome);
    return orchestration_reply(std::get<SetStateOutcome>(outcome));
  });

  routes.add("GET", "/task_run_states/", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    std::string id = req.query_value("task_run_id");
    id = canonical_uuid(id).value_or(id);
    Json out = Json::array();
    if (const TaskRun* run = ctx.store.task_run(id)) {
      for (const State& s : run->states) out.push_back(to_json(s));
    }
    return json_reply(200, std::move(out));
  });
}

}  // namespace lifeline::fake_prefect
