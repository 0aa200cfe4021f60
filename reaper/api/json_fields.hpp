#pragma once
// Reads the top-level members of a small JSON object without building a document: a SAX
// pass of nlohmann's parser (so exactly its grammar, number rules and UTF-8 checks) that
// keeps only the members asked for, behind a plain scan for the common flat body. The
// document tree this replaced cost a dozen allocations per heartbeat.
// Thread-safety: pure function.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lifeline::reaper::api {

struct JsonField {
  // What the member held: `absent` when the object has no such member; `other` for an
  // object, an array or binary. Duplicate members: the last one counts.
  enum class Kind { absent, null, boolean, integer, unsigned_integer, floating, string, other };
  Kind kind = Kind::absent;
  bool boolean = false;
  std::int64_t integer = 0;         // kind integer (negative values)
  std::uint64_t unsigned_value = 0; // kind unsigned_integer (non-negative integers)
  double floating = 0;              // kind floating
  std::string string;               // kind string

  bool present() const { return kind != Kind::absent && kind != Kind::null; }
  bool is_number() const { return kind == Kind::integer || kind == Kind::unsigned_integer || kind == Kind::floating; }
  bool is_integer() const { return kind == Kind::integer || kind == Kind::unsigned_integer; }
  double as_double() const;
  // The integer as int64; nullopt when the member is not an integer or is above INT64_MAX.
  std::optional<std::int64_t> as_int64() const;
  bool operator==(const JsonField&) const = default;
};

enum class JsonShape { object, not_json, not_object };

// Parses `body`; on `object`, fields[i] holds the member named names[i]. A flat object of
// printable-ASCII strings and small non-negative integers (every heartbeat a sidecar sends)
// is read by a plain scan; anything else goes to nlohmann's parser.
JsonShape read_top_level(std::string_view body, std::initializer_list<std::string_view> names,
                         std::vector<JsonField>& fields);
// The same through nlohmann's parser alone (tests and the fuzzer check that both agree).
JsonShape read_top_level_full(std::string_view body, std::initializer_list<std::string_view> names,
                              std::vector<JsonField>& fields);

}  // namespace lifeline::reaper::api
