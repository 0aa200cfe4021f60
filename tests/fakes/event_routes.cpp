// Events: clients post them; tests and the UI read them back through the filter.
#include "tests/fakes/api_dispatcher.hpp"
#include "tests/fakes/prefect_routes.hpp"

namespace lifeline::fake_prefect {

namespace {

// Prefect's Resource and RelatedResource model validators, which the OpenAPI schema does
// not express: a resource needs a non-empty prefect.resource.id, a related resource also
// a non-empty prefect.resource.role.
void check_labels(const Json& labels, const char* required, const std::string& message, Json loc,
                  std::vector<ValidationError>& out) {
  auto it = labels.find(required);
  if (it == labels.end() || !it->is_string() || it->get<std::string>().empty()) {
    Json ctx = Json::object();
    ctx["error"] = Json::object();
    out.push_back(ValidationError{"value_error", std::move(loc), "Value error, " + message, labels, ctx});
  }
}

std::vector<ValidationError> check_events(const Json& events) {
  std::vector<ValidationError> out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Json& e = events[i];
    auto index = static_cast<long long>(i);
    check_labels(e["resource"], "prefect.resource.id", "Resources must include the prefect.resource.id label",
                 Json::array({"body", index, "resource"}), out);
    const Json related = e.value("related", Json::array());
    for (std::size_t j = 0; j < related.size(); ++j) {
      Json loc = Json::array({"body", index, "related", static_cast<long long>(j)});
      check_labels(related[j], "prefect.resource.id", "Resources must include the prefect.resource.id label", loc, out);
      check_labels(related[j], "prefect.resource.role",
                   "Related Resources must include the prefect.resource.role label", loc, out);
    }
  }
  return out;
}

}  // namespace

void add_event_routes(RouteTable& routes, RouteContext& ctx) {
  routes.add("POST", "/events", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    if (auto errors = check_events(req.body); !errors.empty()) return validation_reply(errors, req.body);
    WallTime now = ctx.now();
    for (const auto& e : req.body) ctx.store.events().append(e, now);
    return empty_reply(204);
  });
  routes.add("POST", "/events/filter", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    return json_reply(200, ctx.store.events().filter(req.body.is_object() ? req.body : Json::object()));
  });
  routes.add("POST", "/events/count-by/{countable}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    if (req.path_params.at("countable") != "event") {
      return api_error(501, "fake-prefect counts events only by event");
    }
    return json_reply(200, ctx.store.events().count_by_event(req.body.is_object() ? req.body : Json::object()));
  });
}

}  // namespace lifeline::fake_prefect
