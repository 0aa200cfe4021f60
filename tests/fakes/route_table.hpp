#pragma once
// Routes of the fake API by method and path template ("/flow_runs/{id}/set_state").
// The templates are the OpenAPI document's, so a matched route also names the operation
// whose schema checks the request.
// Thread-safety: filled before the server starts, then read-only.

#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "tests/fakes/api_error.hpp"
#include "tests/fakes/json.hpp"

namespace lifeline::fake_prefect {

struct ApiRequest {
  std::string method;
  std::string path;  // relative to the API root, e.g. "/flow_runs/<id>/set_state"
  std::map<std::string, std::string> path_params;
  std::multimap<std::string, std::string> query;
  Json body;  // null when the request had none

  std::string query_value(const std::string& key) const {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  }
};

struct Reply {
  int status = 200;
  Json body;
  bool no_content = false;  // 204-style answer without a body
  std::vector<std::pair<std::string, std::string>> headers;
};

inline Reply json_reply(int status, Json body) { return Reply{status, std::move(body), false, {}}; }
inline Reply empty_reply(int status) { return Reply{status, Json(), true, {}}; }

using RouteHandler = std::function<Outcome<Reply>(const ApiRequest&)>;

class RouteTable {
 public:
  struct Route {
    std::string method;
    std::string path_template;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
  };
  enum class Miss { NotFound, MethodNotAllowed };

  void add(std::string method, std::string path_template, RouteHandler handler);
  std::variant<Match, Miss> match(const std::string& method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace lifeline::fake_prefect
