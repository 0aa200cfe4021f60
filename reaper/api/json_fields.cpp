#include "reaper/api/json_fields.hpp"

#include <nlohmann/json.hpp>

namespace lifeline::reaper::api {
namespace {

using json = nlohmann::json;

// SAX events of nlohmann's parser, keeping the wanted members of the top-level object.
class TopLevelReader {
 public:
  TopLevelReader(std::initializer_list<std::string_view> names, std::vector<JsonField>& fields)
      : names_(names), fields_(fields) {}

  bool not_object() const { return not_object_; }

  bool null() { return value(JsonField::Kind::null); }
  bool boolean(bool v) {
    if (auto* f = target(JsonField::Kind::boolean)) f->boolean = v;
    return true;
  }
  bool number_integer(json::number_integer_t v) {
    if (auto* f = target(JsonField::Kind::integer)) f->integer = v;
    return true;
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (auto* f = target(JsonField::Kind::unsigned_integer)) f->unsigned_value = v;
    return true;
  }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) {
    if (auto* f = target(JsonField::Kind::floating)) f->floating = v;
    return true;
  }
  bool string(json::string_t& v) {
    if (auto* f = target(JsonField::Kind::string)) f->string = std::move(v);
    return true;
  }
  bool binary(json::binary_t& /*v*/) { return value(JsonField::Kind::other); }
  bool start_object(std::size_t /*n*/) {
    if (depth_ == 0) {
      ++depth_;
      return true;
    }
    return open();
  }
  bool key(json::string_t& k) {
    if (depth_ != 1) return true;
    current_ = -1;
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_.begin()[i] == k) current_ = static_cast<int>(i);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*n*/) { return open(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t /*pos*/, const std::string& /*token*/, const nlohmann::detail::exception& /*e*/) {
    return false;
  }

 private:
  // The field a scalar at the current position fills, or null when it fills none.
  JsonField* target(JsonField::Kind kind) {
    if (depth_ == 0) {
      not_object_ = true;
      return nullptr;
    }
    if (depth_ != 1 || current_ < 0) return nullptr;
    JsonField& f = fields_[static_cast<std::size_t>(current_)];
    f = JsonField{};
    f.kind = kind;
    return &f;
  }
  bool value(JsonField::Kind kind) {
    target(kind);
    return true;
  }
  bool open() {
    target(JsonField::Kind::other);
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }

  std::initializer_list<std::string_view> names_;
  std::vector<JsonField>& fields_;
  int depth_ = 0;
  int current_ = -1;
  bool not_object_ = false;
};

}  // namespace

double JsonField::as_double() const {
  switch (kind) {
    case Kind::integer: return static_cast<double>(integer);
    case Kind::unsigned_integer: return static_cast<double>(unsigned_value);
    case Kind::floating: return floating;
    default: return 0;
  }
}

JsonShape read_top_level(std::string_view body, std::initializer_list<std::string_view> names,
                         std::vector<JsonField>& fields) {
  fields.assign(names.size(), JsonField{});
  TopLevelReader reader(names, fields);
  if (!json::sax_parse(body, &reader)) return JsonShape::not_json;
  return reader.not_object() ? JsonShape::not_object : JsonShape::object;
}

}  // namespace lifeline::reaper::api
