#include "reaper/api/json_fields.hpp"

#include <nlohmann/json.hpp>

#include <optional>

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

// The common case, read without nlohmann's lexer: a flat object whose strings are
// printable ASCII without escapes and whose numbers are small non-negative integers.
// Anything else (an escape, a byte outside ASCII, a nested value, a fraction, a sign, a
// syntax error) answers nullopt, and the full parser decides: this path accepts only
// documents that parser reads the same way.
class FlatReader {
 public:
  FlatReader(std::string_view body, std::initializer_list<std::string_view> names, std::vector<JsonField>& fields)
      : s_(body), names_(names), fields_(fields) {}

  std::optional<JsonShape> read() {
    skip_ws();
    if (!eat('{')) return std::nullopt;
    skip_ws();
    if (!eat('}')) {
      while (true) {
        std::string_view key;
        if (!string(key)) return std::nullopt;
        skip_ws();
        if (!eat(':')) return std::nullopt;
        skip_ws();
        JsonField* f = field(key);
        JsonField scratch;
        if (!value(f != nullptr ? *f : scratch)) return std::nullopt;
        skip_ws();
        if (eat('}')) break;
        if (!eat(',')) return std::nullopt;
        skip_ws();
      }
    }
    skip_ws();
    if (i_ != s_.size()) return std::nullopt;
    return JsonShape::object;
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool string(std::string_view& out) {
    if (!eat('"')) return false;
    const std::size_t start = i_;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        out = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c < 0x20 || c >= 0x7f || c == '\\') return false;
      ++i_;
    }
    return false;
  }
  JsonField* field(std::string_view key) {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_.begin()[i] == key) return &fields_[i];
    return nullptr;
  }
  bool value(JsonField& f) {
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    f = JsonField{};
    if (c == '"') {
      std::string_view v;
      if (!string(v)) return false;
      f.kind = JsonField::Kind::string;
      f.string.assign(v);
      return true;
    }
    if (c >= '0' && c <= '9') {
      std::size_t digits = 0;
      std::uint64_t v = 0;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
        v = v * 10 + static_cast<std::uint64_t>(s_[i_] - '0');
        ++i_;
        ++digits;
      }
      // A leading zero, a fraction or an exponent, or more digits than surely fit: the
      // full parser's business.
      if ((c == '0' && digits > 1) || digits > 18) return false;
      if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
      f.kind = JsonField::Kind::unsigned_integer;
      f.unsigned_value = v;
      return true;
    }
    if (literal("true")) {
      f.kind = JsonField::Kind::boolean;
      f.boolean = true;
      return true;
    }
    if (literal("false")) {
      f.kind = JsonField::Kind::boolean;
      return true;
    }
    if (literal("null")) {
      f.kind = JsonField::Kind::null;
      return true;
    }
    return false;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::initializer_list<std::string_view> names_;
  std::vector<JsonField>& fields_;
};

}  // namespace

std::optional<std::int64_t> JsonField::as_int64() const {
  if (kind == Kind::integer) return integer;
  if (kind == Kind::unsigned_integer && unsigned_value <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(unsigned_value);
  return std::nullopt;
}

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
  if (auto shape = FlatReader(body, names, fields).read()) return *shape;
  return read_top_level_full(body, names, fields);
}

JsonShape read_top_level_full(std::string_view body, std::initializer_list<std::string_view> names,
                              std::vector<JsonField>& fields) {
  fields.assign(names.size(), JsonField{});
  TopLevelReader reader(names, fields);
  if (!json::sax_parse(body, &reader)) return JsonShape::not_json;
  return reader.not_object() ? JsonShape::not_object : JsonShape::object;
}

}  // namespace lifeline::reaper::api
