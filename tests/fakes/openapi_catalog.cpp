#include "tests/fakes/openapi_catalog.hpp"

#include <algorithm>
#include <fstream>

namespace lifeline::fake_prefect {

std::filesystem::path default_openapi_path() {
#ifdef LIFELINE_PREFECT_REFERENCE_DIR
  return std::filesystem::path(LIFELINE_PREFECT_REFERENCE_DIR) / "openapi.json";
#else
  return std::filesystem::path("openapi.json");
#endif
}

std::unique_ptr<OpenApiCatalog> OpenApiCatalog::load(const std::filesystem::path& file, std::string& error) {
  std::ifstream in(file);
  if (!in) {
    error = "cannot open " + file.string();
    return nullptr;
  }
  Json doc = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.contains("paths")) {
    error = file.string() + " is not an OpenAPI document";
    return nullptr;
  }
  return std::make_unique<OpenApiCatalog>(std::move(doc));
}

OpenApiCatalog::OpenApiCatalog(Json document) : validator_(std::move(document)) {
  const Json& doc = validator_.document();
  for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p) {
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      if (!m.value().is_object()) continue;
      Operation op;
      op.method = m.key();
      std::transform(op.method.begin(), op.method.end(), op.method.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      op.path_template = p.key();
      if (auto body = m.value().find("requestBody"); body != m.value().end()) {
        op.body_required = body->value("required", false);
        auto content = body->find("content");
        if (content != body->end()) {
          auto json = content->find("application/json");
          if (json != content->end() && json->contains("schema")) op.body_schema = &(*json)["schema"];
        }
      }
      if (auto params = m.value().find("parameters"); params != m.value().end()) {
        for (const auto& prm : *params) {
          OperationParameter param;
          param.name = prm.value("name", "");
          param.in = prm.value("in", "");
          param.required = prm.value("required", false);
          if (auto s = prm.find("schema"); s != prm.end()) param.schema = &*s;
          op.parameters.push_back(std::move(param));
        }
      }
      operations_[op.path_template][op.method] = std::move(op);
    }
  }
}

const Operation* OpenApiCatalog::find(const std::string& method, const std::string& path_template) const {
  auto p = operations_.find(path_template);
  if (p == operations_.end()) return nullptr;
  auto m = p->second.find(method);
  return m == p->second.end() ? nullptr : &m->second;
}

bool OpenApiCatalog::has_path(const std::string& path_template) const {
  return operations_.count(path_template) > 0;
}

}  // namespace lifeline::fake_prefect
