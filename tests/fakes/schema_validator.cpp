#include "tests/fakes/schema_validator.hpp"

#include <cmath>
#include <optional>
#include <regex>
#include <set>

#include "tests/fakes/time_text.hpp"
#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {

namespace {

// RAII push/pop of one loc element.
class LocScope {
 public:
  LocScope(Json& loc, Json element) : loc_(loc) { loc_.push_back(std::move(element)); }
  ~LocScope() { loc_.erase(loc_.size() - 1); }
  LocScope(const LocScope&) = delete;
  LocScope& operator=(const LocScope&) = delete;

 private:
  Json& loc_;
};

void add(std::vector<ValidationError>& out, std::string type, const Json& loc, std::string msg,
         const Json& input, Json ctx = Json()) {
  out.push_back(ValidationError{std::move(type), loc, std::move(msg), input, std::move(ctx)});
}

// Numbers as pydantic prints constraints: 0.0 -> "0", 0.5 -> "0.5".
std::string number_text(const Json& n) {
  if (n.is_number_integer()) return std::to_string(n.get<long long>());
  double v = n.get<double>();
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::string s = Json(v).dump();
  return s;
}

Json number_value(const Json& n) {
  if (n.is_number_float()) {
    double v = n.get<double>();
    if (std::floor(v) == v && std::fabs(v) < 1e15) return Json(static_cast<long long>(v));
  }
  return n;
}

std::string quoted(const Json& v) { return v.is_string() ? "'" + v.get<std::string>() + "'" : v.dump(); }

// "'A', 'B' or 'C'", as pydantic lists allowed values.
std::string expected_list(const Json& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += (i + 1 == values.size()) ? " or " : ", ";
    out += quoted(values[i]);
  }
  return out;
}

std::vector<std::string> types_of(const Json& schema) {
  std::vector<std::string> out;
  auto it = schema.find("type");
  if (it == schema.end()) return out;
  if (it->is_string()) out.push_back(it->get<std::string>());
  if (it->is_array()) {
    for (const auto& t : *it) out.push_back(t.get<std::string>());
  }
  return out;
}

std::optional<double> parse_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool is_null_schema(const Json& s) {
  auto types = types_of(s);
  return types.size() == 1 && types[0] == "null" && s.size() == 1;
}

bool bool_text(const std::string& s) {
  static const std::set<std::string> kAccepted{"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"};
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return kAccepted.count(lower) > 0;
}

}  // namespace

Json to_json(const ValidationError& e) {
  Json j = Json::object();
  j["type"] = e.type;
  j["loc"] = e.loc;
  j["msg"] = e.msg;
  j["input"] = e.input;
  if (!e.ctx.is_null()) j["ctx"] = e.ctx;
  return j;
}

SchemaValidator::SchemaValidator(Json document) : doc_(std::move(document)) {
  auto comps = doc_.find("components");
  if (comps == doc_.end()) return;
  auto schemas = comps->find("schemas");
  if (schemas == comps->end()) return;
  for (auto it = schemas->begin(); it != schemas->end(); ++it) {
    refs_.emplace("#/components/schemas/" + it.key(), &it.value());
  }
}

const Json* SchemaValidator::resolve(std::string_view ref) const {
  auto it = refs_.find(std::string(ref));
  if (it != refs_.end()) return it->second;
  if (ref.size() < 2 || ref.substr(0, 2) != "#/") return nullptr;
  try {
    const Json& target = doc_.at(Json::json_pointer(std::string(ref.substr(1))));
    return &target;
  } catch (const Json::exception&) {
    return nullptr;
  }
}

std::vector<ValidationError> SchemaValidator::validate(const Json& schema, const Json& instance,
                                                       const Json& loc_prefix) const {
  std::vector<ValidationError> out;
  Json loc = loc_prefix.is_array() ? loc_prefix : Json::array();
  check(schema, instance, loc, out);
  return out;
}

std::vector<ValidationError> SchemaValidator::validate_component(std::string_view name, const Json& instance,
                                                                 const Json& loc_prefix) const {
  const Json* schema = resolve("#/components/schemas/" + std::string(name));
  if (!schema) {
    return {ValidationError{"unknown_schema", loc_prefix, "No schema named " + std::string(name), instance, Json()}};
  }
  return validate(*schema, instance, loc_prefix);
}

void SchemaValidator::check(const Json& schema, const Json& inst, Json& loc, std::vector<ValidationError>& out) const {
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) add(out, "value_error", loc, "Value is not allowed", inst);
    return;
  }
  if (!schema.is_object()) return;
  if (auto ref = schema.find("$ref"); ref != schema.end()) {
    const Json* target = resolve(ref->get<std::string>());
    if (!target) {
      add(out, "unknown_schema", loc, "Unresolvable $ref " + ref->get<std::string>(), inst);
      return;
    }
    std::size_t before = out.size();
    check(*target, inst, loc, out);
    if (out.size() != before) return;
  }
  if (auto any = schema.find("anyOf"); any != schema.end()) {
    check_union(*any, inst, loc, out);
    return;
  }
  if (auto one = schema.find("oneOf"); one != schema.end()) {
    check_union(*one, inst, loc, out);
    return;
  }
  if (auto all = schema.find("allOf"); all != schema.end()) {
    for (const auto& s : *all) check(s, inst, loc, out);
  }
  if (auto e = schema.find("enum"); e != schema.end()) {
    bool found = false;
    for (const auto& v : *e) found = found || v == inst;
    if (!found) {
      std::string expected = expected_list(*e);
      Json ctx = Json::object();
      ctx["expected"] = expected;
      add(out, "enum", loc, "Input should be " + expected, inst, ctx);
    }
    return;
  }
  if (auto c = schema.find("const"); c != schema.end()) {
    if (*c != inst) {
      Json ctx = Json::object();
      ctx["expected"] = quoted(*c);
      add(out, "literal_error", loc, "Input should be " + quoted(*c), inst, ctx);
    }
    return;
  }
  if (!check_type(schema, inst, loc, out)) return;
  if (inst.is_string()) check_string(schema, inst, loc, out);
  if (inst.is_number()) check_number(schema, inst.get<double>(), inst, loc, out);
  if (inst.is_string() && (schema.contains("minimum") || schema.contains("maximum") ||
                           schema.contains("exclusiveMinimum") || schema.contains("exclusiveMaximum"))) {
    if (auto v = parse_number(inst.get<std::string>())) check_number(schema, *v, inst, loc, out);
  }
  if (inst.is_array()) check_array(schema, inst, loc, out);
  if (inst.is_object()) check_object(schema, inst, loc, out);
}

void SchemaValidator::check_union(const Json& branches, const Json& inst, Json& loc,
                                  std::vector<ValidationError>& out) const {
  std::vector<const Json*> candidates;
  for (const auto& b : branches) {
    if (is_null_schema(b)) {
      if (inst.is_null()) return;  // Optional[...] given None
      continue;
    }
    candidates.push_back(&b);
  }
  if (candidates.empty()) {
    add(out, "none_required", loc, "Input should be None", inst);
    return;
  }
  std::vector<ValidationError> best;
  bool have_best = false;
  for (const Json* b : candidates) {
    std::vector<ValidationError> errs;
    check(*b, inst, loc, errs);
    if (errs.empty()) return;
    if (!have_best || errs.size() < best.size()) {
      best = std::move(errs);
      have_best = true;
    }
  }
  out.insert(out.end(), best.begin(), best.end());
}

bool SchemaValidator::check_type(const Json& schema, const Json& inst, Json& loc,
                                 std::vector<ValidationError>& out) const {
  auto types = types_of(schema);
  if (types.empty()) return true;
  bool datetime = schema.value("format", "") == "date-time";
  for (const auto& t : types) {
    if (t == "null" && inst.is_null()) return true;
    if (t == "string" && (inst.is_string() || (datetime && inst.is_number()))) return true;
    if (t == "boolean") {
      if (inst.is_boolean()) return true;
      if (inst.is_number_integer() && (inst.get<long long>() == 0 || inst.get<long long>() == 1)) return true;
      if (inst.is_string() && bool_text(inst.get<std::string>())) return true;
    }
    if (t == "integer") {
      if (inst.is_number_integer() || inst.is_boolean()) return true;
      if (inst.is_number_float() && std::floor(inst.get<double>()) == inst.get<double>()) return true;
      if (inst.is_string()) {
        auto v = parse_number(inst.get<std::string>());
        if (v && std::floor(*v) == *v) return true;
      }
    }
    if (t == "number") {
      if (inst.is_number() || inst.is_boolean()) return true;
      if (inst.is_string() && parse_number(inst.get<std::string>())) return true;
    }
    if (t == "object" && inst.is_object()) return true;
    if (t == "array" && inst.is_array()) return true;
  }
  const std::string& first = types[0] == "null" && types.size() > 1 ? types[1] : types[0];
  if (first == "string") add(out, "string_type", loc, "Input should be a valid string", inst);
  else if (first == "integer" && inst.is_number_float()) {
    add(out, "int_from_float", loc, "Input should be a valid integer, got a number with a fractional part", inst);
  } else if (first == "integer" && inst.is_string()) {
    add(out, "int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer", inst);
  } else if (first == "integer") add(out, "int_type", loc, "Input should be a valid integer", inst);
  else if (first == "number" && inst.is_string()) {
    add(out, "float_parsing", loc, "Input should be a valid number, unable to parse string as a number", inst);
  } else if (first == "number") add(out, "float_type", loc, "Input should be a valid number", inst);
  else if (first == "boolean" && inst.is_string()) {
    add(out, "bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", inst);
  } else if (first == "boolean") add(out, "bool_type", loc, "Input should be a valid boolean", inst);
  else if (first == "object" && schema.contains("properties")) {
    add(out, "model_attributes_type", loc, "Input should be a valid dictionary or object to extract fields from", inst);
  } else if (first == "object") add(out, "dict_type", loc, "Input should be a valid dictionary", inst);
  else if (first == "array") add(out, "list_type", loc, "Input should be a valid list", inst);
  else if (first == "null") add(out, "none_required", loc, "Input should be None", inst);
  else add(out, "type_error", loc, "Input should be of type " + first, inst);
  return false;
}

void SchemaValidator::check_string(const Json& schema, const Json& inst, Json& loc,
                                   std::vector<ValidationError>& out) const {
  const std::string& s = inst.get_ref<const std::string&>();
  std::string format = schema.value("format", "");
  if (format == "uuid" && !is_uuid(s)) {
    Json ctx = Json::object();
    ctx["error"] = "invalid length or character";
    add(out, "uuid_parsing", loc, "Input should be a valid UUID, invalid length or character", inst, ctx);
    return;
  }
  if (format == "date-time" && !parse_time(s) && !parse_number(s)) {
    Json ctx = Json::object();
    ctx["error"] = "input is too short or has an invalid format";
    add(out, "datetime_from_date_parsing", loc, "Input should be a valid datetime or date, input is too short", inst, ctx);
    return;
  }
  auto length = static_cast<long long>(s.size());
  if (auto it = schema.find("minLength"); it != schema.end() && length < it->get<long long>()) {
    Json ctx = Json::object();
    ctx["min_length"] = *it;
    long long n = it->get<long long>();
    add(out, "string_too_short", loc,
        "String should have at least " + std::to_string(n) + (n == 1 ? " character" : " characters"), inst, ctx);
  }
  if (auto it = schema.find("maxLength"); it != schema.end() && length > it->get<long long>()) {
    Json ctx = Json::object();
    ctx["max_length"] = *it;
    long long n = it->get<long long>();
    add(out, "string_too_long", loc,
        "String should have at most " + std::to_string(n) + (n == 1 ? " character" : " characters"), inst, ctx);
  }
  if (auto it = schema.find("pattern"); it != schema.end()) {
    try {
      std::regex re(it->get<std::string>(), std::regex::ECMAScript);
      if (!std::regex_search(s, re)) {
        Json ctx = Json::object();
        ctx["pattern"] = *it;
        add(out, "string_pattern_mismatch", loc, "String should match pattern '" + it->get<std::string>() + "'", inst, ctx);
      }
    } catch (const std::regex_error&) {
      // A Python-only pattern syntax: not checked rather than wrongly rejected.
    }
  }
}

void SchemaValidator::check_number(const Json& schema, double value, const Json& inst, Json& loc,
                                   std::vector<ValidationError>& out) const {
  struct Bound {
    const char* keyword;
    const char* type;
    const char* words;
    const char* ctx_key;
    bool (*ok)(double, double);
  };
  static const Bound kBounds[] = {
      {"minimum", "greater_than_equal", "greater than or equal to", "ge", [](double v, double b) { return v >= b; }},
      {"exclusiveMinimum", "greater_than", "greater than", "gt", [](double v, double b) { return v > b; }},
      {"maximum", "less_than_equal", "less than or equal to", "le", [](double v, double b) { return v <= b; }},
      {"exclusiveMaximum", "less_than", "less than", "lt", [](double v, double b) { return v < b; }},
  };
  for (const auto& b : kBounds) {
    auto it = schema.find(b.keyword);
    if (it == schema.end() || !it->is_number()) continue;
    if (!b.ok(value, it->get<double>())) {
      Json ctx = Json::object();
      ctx[b.ctx_key] = number_value(*it);
      add(out, b.type, loc, std::string("Input should be ") + b.words + " " + number_text(*it), inst, ctx);
    }
  }
}

void SchemaValidator::check_array(const Json& schema, const Json& inst, Json& loc,
                                  std::vector<ValidationError>& out) const {
  auto count = static_cast<long long>(inst.size());
  for (const char* key : {"minItems", "min_items"}) {
    if (auto it = schema.find(key); it != schema.end() && count < it->get<long long>()) {
      long long n = it->get<long long>();
      Json ctx = Json::object();
      ctx["field_type"] = "List";
      ctx["min_length"] = n;
      ctx["actual_length"] = count;
      add(out, "too_short", loc,
          "List should have at least " + std::to_string(n) + (n == 1 ? " item" : " items") +
              " after validation, not " + std::to_string(count), inst, ctx);
    }
  }
  for (const char* key : {"maxItems", "max_items"}) {
    if (auto it = schema.find(key); it != schema.end() && count > it->get<long long>()) {
      long long n = it->get<long long>();
      Json ctx = Json::object();
      ctx["field_type"] = "List";
      ctx["max_length"] = n;
      ctx["actual_length"] = count;
      add(out, "too_long", loc,
          "List should have at most " + std::to_string(n) + (n == 1 ? " item" : " items") +
              " after validation, not " + std::to_string(count), inst, ctx);
    }
  }
  const Json* prefix = nullptr;
  if (auto it = schema.find("prefixItems"); it != schema.end() && it->is_array()) prefix = &*it;
  auto items = schema.find("items");
  for (std::size_t i = 0; i < inst.size(); ++i) {
    LocScope scope(loc, Json(static_cast<long long>(i)));
    if (prefix && i < prefix->size()) check((*prefix)[i], inst[i], loc, out);
    else if (items != schema.end()) check(*items, inst[i], loc, out);
  }
}

void SchemaValidator::check_object(const Json& schema, const Json& inst, Json& loc,
                                   std::vector<ValidationError>& out) const {
  auto props = schema.find("properties");
  bool has_props = props != schema.end() && props->is_object();
  if (has_props) {
    for (auto it = props->begin(); it != props->end(); ++it) {
      auto value = inst.find(it.key());
      if (value == inst.end()) continue;
      LocScope scope(loc, Json(it.key()));
      check(it.value(), *value, loc, out);
    }
  }
  if (auto req = schema.find("required"); req != schema.end()) {
    for (const auto& name : *req) {
      if (!inst.contains(name.get<std::string>())) {
        LocScope scope(loc, name);
        add(out, "missing", loc, "Field required", inst);
      }
    }
  }
  auto extra = schema.find("additionalProperties");
  if (extra == schema.end()) return;
  for (auto it = inst.begin(); it != inst.end(); ++it) {
    if (has_props && props->contains(it.key())) continue;
    LocScope scope(loc, Json(it.key()));
    if (extra->is_boolean()) {
      if (!extra->get<bool>()) add(out, "extra_forbidden", loc, "Extra inputs are not permitted", it.value());
    } else {
      check(*extra, it.value(), loc, out);
    }
  }
}

}  // namespace lifeline::fake_prefect
