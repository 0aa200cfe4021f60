#pragma once
// One Prefect API request from raw parts to answer: route it, parse and check the body,
// path and query against the operation's OpenAPI schema (422 in FastAPI's shape when they
// do not conform), then run the handler. Paths unknown to Prefect get 404
// {"detail":"Not Found"}; paths Prefect has but the fake does not implement get 501.
// Thread-safety: the caller serialises calls (handlers touch the store).

#include <map>
#include <string>

#include "tests/fakes/openapi_catalog.hpp"
#include "tests/fakes/route_table.hpp"

namespace lifeline::fake_prefect {

class ApiDispatcher {
 public:
  // `catalog` must outlive the dispatcher.
  ApiDispatcher(RouteTable routes, const OpenApiCatalog& catalog);

  // `path` is relative to the API root ("/flow_runs/filter").
  Reply handle(const std::string& method, const std::string& path,
               const std::multimap<std::string, std::string>& query, const std::string& raw_body) const;

  // Templates registered by the fake that the OpenAPI document lacks (should be none).
  std::vector<std::string> templates_missing_from_schema() const;

 private:
  Reply not_routed(const std::string& method, const std::string& path,
                   const std::multimap<std::string, std::string>& query) const;

  RouteTable routes_;
  RouteTable schema_paths_;  // every OpenAPI path, to tell "unimplemented" from "unknown"
  const OpenApiCatalog& catalog_;
};

// FastAPI's 422 answer for request validation errors.
Reply validation_reply(const std::vector<ValidationError>& errors, const Json& request_body);

}  // namespace lifeline::fake_prefect
