#pragma once
// The Prefect REST API's OpenAPI document: which operations exist and what their request
// bodies and parameters must look like. Looked up by the path template the fake routes on
// (e.g. "/flow_runs/{id}/set_state", relative to the API root) and the HTTP method.
// Thread-safety: immutable after load; any thread may read.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/json.hpp"
#include "tests/fakes/schema_validator.hpp"

namespace lifeline::fake_prefect {

struct OperationParameter {
  std::string name;
  std::string in;  // "path", "query", "header"
  bool required = false;
  const Json* schema = nullptr;
};

struct Operation {
  std::string method;  // upper case
  std::string path_template;
  const Json* body_schema = nullptr;  // application/json request body, if any
  bool body_required = false;
  std::vector<OperationParameter> parameters;
};

class OpenApiCatalog {
 public:
  // Reads and indexes openapi.json. nullptr and `error` set when it cannot.
  static std::unique_ptr<OpenApiCatalog> load(const std::filesystem::path& file, std::string& error);
  explicit OpenApiCatalog(Json document);

  const Operation* find(const std::string& method, const std::string& path_template) const;
  bool has_path(const std::string& path_template) const;
  const SchemaValidator& validator() const { return validator_; }

 private:
  SchemaValidator validator_;
  std::map<std::string, std::map<std::string, Operation>> operations_;  // template -> method -> op
};

// Where the reference data lives (compile-time definition, overridable for installed copies).
std::filesystem::path default_openapi_path();

}  // namespace lifeline::fake_prefect
