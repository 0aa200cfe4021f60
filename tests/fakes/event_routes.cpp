// Events: clients post them; tests and the UI read them back through the filter.
#include "tests/fakes/prefect_routes.hpp"

namespace lifeline::fake_prefect {

void add_event_routes(RouteTable& routes, RouteContext& ctx) {
  routes.add("POST", "/events", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
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
