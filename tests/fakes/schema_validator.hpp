#pragma once
// A JSON-schema-lite validator over an OpenAPI 3.1 document's components, reporting errors
// the way FastAPI/pydantic v2 does ({type, loc, msg, input, ctx}).
//
// Supported: $ref, type (also a list, and "null"), properties, required,
// additionalProperties (false or a schema), enum, const, anyOf/oneOf/allOf, items,
// prefixItems, format uuid and date-time, minimum/maximum/exclusiveMinimum/exclusiveMaximum,
// minLength/maxLength, minItems/maxItems, pattern. Coercions follow pydantic's lax mode
// where a real server accepts them ("5" for an integer, 1 for a boolean, a number for a
// date-time). oneOf is checked like anyOf (pydantic picks the best match).
// Thread-safety: immutable after construction; validate() may be called from any thread.

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tests/fakes/json.hpp"

namespace lifeline::fake_prefect {

struct ValidationError {
  std::string type;  // pydantic's error type: "missing", "extra_forbidden", "enum", ...
  Json loc;          // e.g. ["body", "state", "type"]
  std::string msg;
  Json input;
  Json ctx;          // null when the error has no context
};

Json to_json(const ValidationError& e);

class SchemaValidator {
 public:
  // `document` is the whole OpenAPI document; $refs are resolved inside it.
  explicit SchemaValidator(Json document);

  // Errors of `instance` against `schema`; each loc starts with `loc_prefix`.
  std::vector<ValidationError> validate(const Json& schema, const Json& instance,
                                        const Json& loc_prefix = Json::array()) const;
  // Against the component schema "#/components/schemas/<name>". Unknown name: one error.
  std::vector<ValidationError> validate_component(std::string_view name, const Json& instance,
                                                  const Json& loc_prefix = Json::array()) const;

  const Json& document() const { return doc_; }
  // The schema a "$ref" points at, or nullptr.
  const Json* resolve(std::string_view ref) const;

 private:
  void check(const Json& schema, const Json& inst, Json& loc, std::vector<ValidationError>& out) const;
  void check_union(const Json& branches, const Json& inst, Json& loc, std::vector<ValidationError>& out) const;
  bool check_type(const Json& schema, const Json& inst, Json& loc, std::vector<ValidationError>& out) const;
  void check_string(const Json& schema, const Json& inst, Json& loc, std::vector<ValidationError>& out) const;
  void check_number(const Json& schema, double value, const Json& inst, Json& loc,
                    std::vector<ValidationError>& out) const;
  void check_array(const Json& schema, const Json& inst, Json& loc, std::vector<ValidationError>& out) const;
  void check_object(const Json& schema, const Json& inst, Json& loc, std::vector<ValidationError>& out) const;

  Json doc_;
  std::unordered_map<std::string, const Json*> refs_;
};

}  // namespace lifeline::fake_prefect
