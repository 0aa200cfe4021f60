#include "tests/fakes/api_dispatcher.hpp"

namespace lifeline::fake_prefect {

namespace {

Reply detail_reply(int status, const std::string& detail) {
  Json body = Json::object();
  body["detail"] = detail;
  return json_reply(status, std::move(body));
}

std::string query_string(const std::multimap<std::string, std::string>& query) {
  std::string out;
  for (const auto& [k, v] : query) out += (out.empty() ? "?" : "&") + k + "=" + v;
  return out;
}

}  // namespace

Reply validation_reply(const std::vector<ValidationError>& errors, const Json& request_body) {
  Json detail = Json::array();
  for (const auto& e : errors) detail.push_back(to_json(e));
  Json body = Json::object();
  body["exception_message"] = "Invalid request received.";
  body["exception_detail"] = std::move(detail);
  body["request_body"] = request_body;
  return json_reply(422, std::move(body));
}

ApiDispatcher::ApiDispatcher(RouteTable routes, const OpenApiCatalog& catalog)
    : routes_(std::move(routes)), catalog_(catalog) {
  const Json& paths = catalog_.validator().document()["paths"];
  for (auto p = paths.begin(); p != paths.end(); ++p) {
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      std::string method = m.key();
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      schema_paths_.add(method, p.key(), nullptr);
    }
  }
}

std::vector<std::string> ApiDispatcher::templates_missing_from_schema() const {
  std::vector<std::string> out;
  for (const auto& r : routes_.routes()) {
    if (!catalog_.find(r.method, r.path_template)) out.push_back(r.method + " " + r.path_template);
  }
  return out;
}

Reply ApiDispatcher::not_routed(const std::string& method, const std::string& path,
                                const std::multimap<std::string, std::string>& query) const {
  auto in_schema = schema_paths_.match(method, path);
  if (auto* m = std::get_if<RouteTable::Match>(&in_schema)) {
    return detail_reply(501, "fake-prefect does not implement " + method + " " + m->route->path_template);
  }
  // FastAPI redirects to the same path with or without its trailing slash when that exists.
  std::string other = !path.empty() && path.back() == '/' ? path.substr(0, path.size() - 1) : path + "/";
  if (std::holds_alternative<RouteTable::Match>(routes_.match(method, other))) {
    Reply r = empty_reply(307);
    r.headers.emplace_back("Location", "/api" + other + query_string(query));
    return r;
  }
  if (std::get<RouteTable::Miss>(in_schema) == RouteTable::Miss::MethodNotAllowed) {
    return detail_reply(405, "Method Not Allowed");
  }
  return detail_reply(404, "Not Found");
}

Reply ApiDispatcher::handle(const std::string& method, const std::string& path,
                            const std::multimap<std::string, std::string>& query, const std::string& raw_body) const {
  auto routed = routes_.match(method, path);
  auto* match = std::get_if<RouteTable::Match>(&routed);
  if (!match) return not_routed(method, path, query);

  ApiRequest req;
  req.method = method;
  req.path = path;
  req.path_params = match->params;
  req.query = query;

  bool has_body = raw_body.find_first_not_of(" \t\r\n") != std::string::npos;
  if (has_body) {
    req.body = Json::parse(raw_body, nullptr, /*allow_exceptions=*/false);
    if (req.body.is_discarded()) {
      Json loc = Json::array({"body", 0});
      Json ctx = Json::object();
      ctx["error"] = "Expecting value";
      return validation_reply({ValidationError{"json_invalid", loc, "JSON decode error", Json::object(), ctx}},
                              Json(raw_body));
    }
  }

  std::vector<ValidationError> errors;
  if (const Operation* op = catalog_.find(method, match->route->path_template)) {
    const SchemaValidator& v = catalog_.validator();
    for (const auto& prm : op->parameters) {
      if (prm.in == "path") {
        auto it = req.path_params.find(prm.name);
        if (it != req.path_params.end() && prm.schema) {
          auto e = v.validate(*prm.schema, Json(it->second), Json::array({"path", prm.name}));
          errors.insert(errors.end(), e.begin(), e.end());
        }
      } else if (prm.in == "query") {
        auto it = req.query.find(prm.name);
        if (it == req.query.end()) {
          if (prm.required) {
            errors.push_back(ValidationError{"missing", Json::array({"query", prm.name}), "Field required", nullptr, Json()});
          }
        } else if (prm.schema) {
          auto e = v.validate(*prm.schema, Json(it->second), Json::array({"query", prm.name}));
          errors.insert(errors.end(), e.begin(), e.end());
        }
      }
    }
    if (op->body_schema) {
      if (!has_body) {
        if (op->body_required) {
          errors.push_back(ValidationError{"missing", Json::array({"body"}), "Field required", nullptr, Json()});
        }
      } else {
        auto e = v.validate(*op->body_schema, req.body, Json::array({"body"}));
        errors.insert(errors.end(), e.begin(), e.end());
      }
    }
  }
  if (!errors.empty()) return validation_reply(errors, req.body);
  if (!has_body) req.body = Json::object();

  auto outcome = match->route->handler(req);
  if (auto* err = std::get_if<ApiError>(&outcome)) return json_reply(err->status, err->body);
  return std::get<Reply>(std::move(outcome));
}

}  // namespace lifeline::fake_prefect
