// Health, version, flows and deployments.
#include "tests/fakes/prefect_routes.hpp"
#include "tests/fakes/serializers.hpp"
#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {

std::string id_param(const ApiRequest& req, const std::string& name) {
  auto it = req.path_params.find(name);
  if (it == req.path_params.end()) return {};
  return canonical_uuid(it->second).value_or(it->second);
}

std::optional<std::string> string_field(const Json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Reply orchestration_reply(const SetStateOutcome& outcome) {
  const Decision& d = outcome.decision;
  Json details = Json::object();
  details["type"] = std::string(details_type(d.status));
  if (d.status == SetStateStatus::Wait) details["delay_seconds"] = d.delay_seconds;
  if (d.status != SetStateStatus::Accept) details["reason"] = d.reason ? Json(*d.reason) : Json(nullptr);
  Json body = Json::object();
  body["state"] = outcome.state;
  body["status"] = std::string(to_string(d.status));
  body["details"] = std::move(details);
  return json_reply(outcome.wrote ? 201 : 200, std::move(body));
}

void add_flow_routes(RouteTable& routes, RouteContext& ctx) {
  routes.add("GET", "/health", [](const ApiRequest&) -> Outcome<Reply> { return json_reply(200, true); });
  routes.add("GET", "/ready", [](const ApiRequest&) -> Outcome<Reply> {
    return json_reply(200, Json::object({{"message", "OK"}}));
  });
  // /version is the API (schema) version; /admin/version the server's release.
  routes.add("GET", "/version", [](const ApiRequest&) -> Outcome<Reply> { return json_reply(200, "0.8.4"); });
  routes.add("GET", "/admin/version",
             [&ctx](const ApiRequest&) -> Outcome<Reply> { return json_reply(200, ctx.server_version); });

  routes.add("POST", "/flows/", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    bool created = false;
    const Flow& f = ctx.store.upsert_flow(req.body.value("name", ""), req.body.value("tags", Json::array()),
                                          req.body.value("labels", Json::object()), ctx.now(), &created);
    return json_reply(created ? 201 : 200, to_json(f));
  });
  routes.add("GET", "/flows/{id}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const Flow* f = ctx.store.flow(id_param(req, "id"));
    if (!f) return api_error(404, "Flow not found");
    return json_reply(200, to_json(*f));
  });

  routes.add("POST", "/deployments/", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    bool created = false;
    Json body = req.body;
    if (auto id = string_field(body, "flow_id")) body["flow_id"] = canonical_uuid(*id).value_or(*id);
    auto d = ctx.store.upsert_deployment(body, ctx.now(), &created);
    if (failed(d)) return std::get<ApiError>(d);
    const Deployment* dep = std::get<const Deployment*>(d);
    const ConcurrencyLimit* limit =
        dep->concurrency_limit_id ? ctx.store.limits().find(*dep->concurrency_limit_id, ctx.now()) : nullptr;
    return json_reply(created ? 201 : 200, to_json(*dep, limit));
  });
  routes.add("GET", "/deployments/{id}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const Deployment* dep = ctx.store.deployment(id_param(req, "id"));
    if (!dep) return api_error(404, "Deployment not found");
    const ConcurrencyLimit* limit =
        dep->concurrency_limit_id ? ctx.store.limits().find(*dep->concurrency_limit_id, ctx.now()) : nullptr;
    return json_reply(200, to_json(*dep, limit));
  });
  routes.add("POST", "/deployments/{id}/create_flow_run", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const Deployment* dep = ctx.store.deployment(id_param(req, "id"));
    if (!dep) return api_error(404, "Deployment not found");
    const Json& b = req.body.is_object() ? req.body : Json::object();
    FlowRunSpec spec;
    spec.flow_id = dep->flow_id;
    spec.deployment_id = dep->id;
    spec.from_deployment = true;
    spec.name = string_field(b, "name");
    spec.idempotency_key = string_field(b, "idempotency_key");
    spec.parent_task_run_id = string_field(b, "parent_task_run_id");
    spec.work_queue_name = string_field(b, "work_queue_name");
    spec.tags = b.value("tags", dep->request.value("tags", Json::array()));
    spec.labels = b.value("labels", Json::object());
    spec.parameters = b.value("parameters", dep->request.value("parameters", Json::object()));
    spec.context = b.value("context", Json::object());
    spec.job_variables = b.value("job_variables", Json::object());
    spec.empirical_policy = b.value("empirical_policy", Json());
    if (auto s = b.find("state"); s != b.end() && s->is_object()) spec.state = parse_state_create(*s);
    bool created = false;
    auto run = ctx.store.create_flow_run(std::move(spec), ctx.now(), &created);
    if (failed(run)) return std::get<ApiError>(run);
    return json_reply(created ? 201 : 200, to_json(*std::get<const FlowRun*>(run), ctx.now()));
  });
}

}  // namespace lifeline::fake_prefect
