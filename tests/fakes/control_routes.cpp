#include "tests/fakes/control_routes.hpp"

#include "tests/fakes/fake_prefect.hpp"
#include "tests/fakes/time_text.hpp"

namespace lifeline::fake_prefect {

namespace {

std::optional<std::string> opt_str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<int> opt_int(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<int>();
}

std::vector<std::string> strings(const Json& j, const char* key) {
  std::vector<std::string> out;
  for (const auto& v : j.value(key, Json::array())) out.push_back(v.get<std::string>());
  return out;
}

Reply answer(const HttpAnswer& a) { return json_reply(a.status, a.body); }

Reply found_or_404(const std::optional<Json>& j) {
  if (!j) return json_reply(404, Json::object({{"detail", "Not Found"}}));
  return json_reply(200, *j);
}

Json array_of(const std::vector<Json>& items) {
  Json out = Json::array();
  for (const auto& i : items) out.push_back(i);
  return out;
}

}  // namespace

void add_control_routes(RouteTable& routes, FakePrefect& fake) {
  routes.add("GET", "/health", [](const ApiRequest&) -> Outcome<Reply> {
    return json_reply(200, Json::object({{"ok", true}}));
  });
  routes.add("POST", "/flows", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    return json_reply(201, Json::object({{"id", fake.create_flow(req.body.value("name", "fake-flow"))}}));
  });
  routes.add("POST", "/deployments", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    DeploymentSpec spec;
    spec.name = req.body.value("name", spec.name);
    spec.flow_name = req.body.value("flow_name", spec.flow_name);
    spec.concurrency_limit = opt_int(req.body, "concurrency_limit");
    spec.collision_strategy = opt_str(req.body, "collision_strategy");
    spec.work_pool_name = opt_str(req.body, "work_pool_name");
    std::string id = fake.create_deployment(spec);
    return answer(fake.call("GET", "/api/deployments/" + id));
  });
  routes.add("POST", "/runs", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    RunSpec spec;
    const Json& b = req.body;
    spec.state = b.value("state", spec.state);
    spec.state_name = opt_str(b, "state_name");
    spec.state_message = opt_str(b, "state_message");
    spec.deployment_id = opt_str(b, "deployment_id");
    spec.with_deployment = b.value("with_deployment", false);
    spec.deployment_concurrency_limit = opt_int(b, "deployment_concurrency_limit");
    spec.work_pool_name = opt_str(b, "work_pool_name");
    spec.tags = strings(b, "tags");
    spec.parent_run_id = opt_str(b, "parent_run_id");
    spec.name = opt_str(b, "name");
    spec.flow_name = b.value("flow_name", spec.flow_name);
    spec.retries = opt_int(b, "retries");
    Reply r = found_or_404(fake.flow_run(fake.create_run(spec)));
    r.status = 201;
    return r;
  });
  routes.add("GET", "/runs/{id}", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    return found_or_404(fake.flow_run(req.path_params.at("id")));
  });
  routes.add("GET", "/runs/{id}/history", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    return json_reply(200, array_of(fake.history(req.path_params.at("id"))));
  });
  routes.add("GET", "/runs/{id}/task_runs", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    return json_reply(200, array_of(fake.task_runs_of(req.path_params.at("id"))));
  });
  routes.add("POST", "/runs/{id}/set_state", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    return answer(fake.set_flow_run_state(req.path_params.at("id"), req.body.value("state", Json::object()),
                                          req.body.value("force", false)));
  });
  routes.add("POST", "/task_runs", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    TaskRunSpecForTest spec;
    spec.flow_run_id = req.body.at("flow_run_id").get<std::string>();
    spec.state = req.body.value("state", spec.state);
    spec.tags = strings(req.body, "tags");
    spec.name = opt_str(req.body, "name");
    Reply r = found_or_404(fake.task_run(fake.create_task_run(spec)));
    r.status = 201;
    return r;
  });
  routes.add("GET", "/task_runs/{id}/history", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    return json_reply(200, array_of(fake.task_run_history(req.path_params.at("id"))));
  });
  routes.add("POST", "/task_runs/{id}/set_state", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    return answer(fake.set_task_run_state(req.path_params.at("id"), req.body.value("state", Json::object()),
                                          req.body.value("force", false)));
  });
  routes.add("POST", "/limits", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    int limit = req.body.value("limit", 1);
    std::string id = req.body.contains("tag") ? fake.create_tag_limit(req.body.at("tag").get<std::string>(), limit)
                                              : fake.create_global_limit(req.body.at("name").get<std::string>(), limit);
    return json_reply(201, Json::object({{"id", id}}));
  });
  routes.add("GET", "/limits/{id_or_name}", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    return found_or_404(fake.concurrency_limit(req.path_params.at("id_or_name")));
  });
  routes.add("GET", "/calls", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    std::string path = req.query_value("path");
    Json out = Json::array();
    for (const auto& c : fake.calls_to(req.query_value("method"), path.empty() ? "**" : path)) out.push_back(to_json(c));
    return json_reply(200, std::move(out));
  });
  routes.add("DELETE", "/calls", [&fake](const ApiRequest&) -> Outcome<Reply> {
    fake.clear_calls();
    return empty_reply(204);
  });
  routes.add("POST", "/faults", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    std::string error;
    auto fault = fault_from_json(req.body, error);
    if (!fault) return api_error(400, error);
    return json_reply(201, Json::object({{"id", fake.inject(*fault)}}));
  });
  routes.add("GET", "/faults", [&fake](const ApiRequest&) -> Outcome<Reply> { return json_reply(200, fake.faults()); });
  routes.add("DELETE", "/faults", [&fake](const ApiRequest&) -> Outcome<Reply> {
    fake.clear_faults();
    return empty_reply(204);
  });
  routes.add("PUT", "/latency", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    fake.set_latency(std::chrono::milliseconds(req.body.value("ms", 0LL)));
    return empty_reply(204);
  });
  routes.add("PUT", "/fail_rate", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    fake.set_fail_rate(req.body.value("rate", 0.0));
    return empty_reply(204);
  });
  routes.add("POST", "/clock/advance", [&fake](const ApiRequest& req) -> Outcome<Reply> {
    fake.advance_time(std::chrono::milliseconds(req.body.value("ms", 0LL)));
    return json_reply(200, Json::object({{"now", format_time(fake.now())}}));
  });
  routes.add("GET", "/events", [&fake](const ApiRequest&) -> Outcome<Reply> {
    return json_reply(200, array_of(fake.events()));
  });
}

}  // namespace lifeline::fake_prefect
