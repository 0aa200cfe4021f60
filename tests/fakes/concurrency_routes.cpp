// Concurrency limits: v1 tag limits (backed by v2 limits named "tag:<tag>", as in
// Prefect 3) and v2 limits with slots and leases.
#include <cstdio>

#include "tests/fakes/prefect_routes.hpp"
#include "tests/fakes/run_filter.hpp"
#include "tests/fakes/serializers.hpp"
#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {

namespace {

std::vector<std::string> names_of(const Json& body) {
  std::vector<std::string> out;
  for (const auto& n : body.value("names", Json::array())) {
    if (n.is_string()) out.push_back(n.get<std::string>());
  }
  return out;
}

int slots_of(const Json& body) {
  auto it = body.find("slots");
  return it != body.end() && it->is_number() ? static_cast<int>(it->get<double>()) : 1;
}

// 423 with Retry-After, as Prefect answers when a limit is full.
Reply locked() {
  Json body = Json::object();
  body["detail"] = "Locked";
  Reply r = json_reply(423, std::move(body));
  r.headers.emplace_back("Retry-After", "2.0");
  return r;
}

std::string tag_limit_name(const std::string& tag) { return "tag:" + tag; }

}  // namespace

void add_concurrency_routes(RouteTable& routes, RouteContext& ctx) {
  // v1 tag limits.
  routes.add("POST", "/concurrency_limits/", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    WallTime now = ctx.now();
    std::string tag = req.body.value("tag", "");
    int limit = req.body.value("concurrency_limit", 0);
    ConcurrencyLimit* existing = ctx.store.limits().find_by_name(tag_limit_name(tag), now);
    if (existing) {
      existing->limit = limit;
      existing->updated = now;
      return json_reply(200, ctx.store.tag_limit_json(*existing, now));
    }
    const ConcurrencyLimit* l = ctx.store.limits().create(tag_limit_name(tag), limit, true, 0.0, now);
    return json_reply(201, ctx.store.tag_limit_json(*l, now));
  });
  routes.add("GET", "/concurrency_limits/tag/{tag}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    WallTime now = ctx.now();
    ConcurrencyLimit* l = ctx.store.limits().find_by_name(tag_limit_name(req.path_params.at("tag")), now);
    if (!l) return api_error(404, "Concurrency limit not found");
    return json_reply(200, ctx.store.tag_limit_json(*l, now));
  });
  routes.add("GET", "/concurrency_limits/{id}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    WallTime now = ctx.now();
    ConcurrencyLimit* l = ctx.store.limits().find(id_param(req, "id"), now);
    if (!l || l->name.rfind("tag:", 0) != 0) return api_error(404, "Concurrency limit not found");
    return json_reply(200, ctx.store.tag_limit_json(*l, now));
  });
  routes.add("DELETE", "/concurrency_limits/tag/{tag}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    if (!ctx.store.limits().remove(tag_limit_name(req.path_params.at("tag")), ctx.now())) {
      return api_error(404, "Concurrency limit not found");
    }
    return json_reply(200, nullptr);
  });
  routes.add("POST", "/concurrency_limits/tag/{tag}/reset", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    WallTime now = ctx.now();
    ConcurrencyLimit* l = ctx.store.limits().find_by_name(tag_limit_name(req.path_params.at("tag")), now);
    if (!l) return api_error(404, "Concurrency limit not found");
    ctx.store.limits().reset(l->id, now);
    return json_reply(200, nullptr);
  });
  routes.add("POST", "/concurrency_limits/filter", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    auto page = page_of(req.body);
    if (failed(page)) return std::get<ApiError>(page);
    WallTime now = ctx.now();
    std::vector<const ConcurrencyLimit*> tags;
    for (const ConcurrencyLimit* l : ctx.store.limits().all_sorted_by_name(now)) {
      if (l->name.rfind("tag:", 0) == 0) tags.push_back(l);
    }
    Json out = Json::array();
    for (const ConcurrencyLimit* l : apply_page(tags, std::get<Page>(page))) out.push_back(ctx.store.tag_limit_json(*l, now));
    return json_reply(200, std::move(out));
  });

  // v2 limits.
  routes.add("POST", "/v2/concurrency_limits/", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    WallTime now = ctx.now();
    std::string name = req.body.value("name", "");
    const ConcurrencyLimit* l =
        ctx.store.limits().create(name, req.body.value("limit", 0), req.body.value("active", true),
                                  req.body.value("slot_decay_per_second", 0.0), now);
    if (!l) return api_error(409, "Concurrency limit with name '" + name + "' already exists.");
    return json_reply(201, to_json(*l, /*created_view=*/true));
  });
  routes.add("GET", "/v2/concurrency_limits/{id_or_name}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const std::string& key = req.path_params.at("id_or_name");
    ConcurrencyLimit* l = ctx.store.limits().find(canonical_uuid(key).value_or(key), ctx.now());
    if (!l) return api_error(404, "Concurrency Limit not found");
    return json_reply(200, to_json(*l));
  });
  routes.add("DELETE", "/v2/concurrency_limits/{id_or_name}", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    const std::string& key = req.path_params.at("id_or_name");
    if (!ctx.store.limits().remove(canonical_uuid(key).value_or(key), ctx.now())) {
      return api_error(404, "Concurrency Limit not found");
    }
    return empty_reply(204);
  });
  routes.add("POST", "/v2/concurrency_limits/filter", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    auto page = page_of(req.body);
    if (failed(page)) return std::get<ApiError>(page);
    Json out = Json::array();
    for (const ConcurrencyLimit* l : apply_page(ctx.store.limits().all_sorted_by_name(ctx.now()), std::get<Page>(page))) {
      out.push_back(to_json(*l));
    }
    return json_reply(200, std::move(out));
  });
  routes.add("POST", "/v2/concurrency_limits/increment", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    std::vector<const ConcurrencyLimit*> taken;
    if (!ctx.store.limits().increment(names_of(req.body), slots_of(req.body), ctx.now(), &taken)) {
      return locked();
    }
    Json out = Json::array();
    for (const ConcurrencyLimit* l : taken) out.push_back(minimal_json(*l));
    return json_reply(200, std::move(out));
  });
  routes.add("POST", "/v2/concurrency_limits/decrement", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    std::vector<const ConcurrencyLimit*> released;
    ctx.store.limits().decrement(names_of(req.body), slots_of(req.body), req.body.value("occupancy_seconds", 0.0),
                                 ctx.now(), &released);
    Json out = Json::array();
    for (const ConcurrencyLimit* l : released) out.push_back(minimal_json(*l));
    return json_reply(200, std::move(out));
  });
  routes.add("POST", "/v2/concurrency_limits/increment-with-lease", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    WallTime now = ctx.now();
    std::vector<const ConcurrencyLimit*> taken;
    int slots = slots_of(req.body);
    if (!ctx.store.limits().increment(names_of(req.body), slots, now, &taken)) return locked();
    std::vector<std::string> ids;
    Json limits = Json::array();
    for (const ConcurrencyLimit* l : taken) {
      ids.push_back(l->id);
      limits.push_back(minimal_json(*l));
    }
    auto ttl = std::chrono::seconds(static_cast<long long>(req.body.value("lease_duration", 300.0)));
    const Lease& lease = ctx.store.limits().create_lease(ids, slots, ttl, req.body.value("holder", Json()), now);
    Json out = Json::object();
    out["lease_id"] = lease.id;
    out["limits"] = std::move(limits);
    return json_reply(200, std::move(out));
  });
  routes.add("POST", "/v2/concurrency_limits/decrement-with-lease", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    std::string id = req.body.value("lease_id", "");
    (void)ctx.store.limits().revoke_lease(canonical_uuid(id).value_or(id), ctx.now());
    return empty_reply(204);
  });
  routes.add("POST", "/v2/concurrency_limits/leases/{lease_id}/renew", [&ctx](const ApiRequest& req) -> Outcome<Reply> {
    double duration = req.body.is_object() ? req.body.value("lease_duration", 300.0) : 300.0;
    auto ttl = std::chrono::seconds(static_cast<long long>(duration));
    if (!ctx.store.limits().renew_lease(id_param(req, "lease_id"), ttl, ctx.now())) {
      return api_error(410, "Lease not found.");
    }
    return empty_reply(204);
  });
}

}  // namespace lifeline::fake_prefect
