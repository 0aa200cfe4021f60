#pragma once
// UUIDs: random version-4 ids for the objects the fake creates, and the lenient parsing
// pydantic applies to ids it receives.
// Thread-safety: UuidGenerator is not thread-safe (its owner serialises access);
// the free functions are pure.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace lifeline::fake_prefect {

class UuidGenerator {
 public:
  explicit UuidGenerator(std::uint64_t seed) : rng_(seed) {}
  std::string next();  // lower-case, hyphenated, version 4

 private:
  std::mt19937_64 rng_;
};

// The canonical lower-case hyphenated form of `text`, if it is a UUID in a form pydantic
// accepts (hyphenated or 32 hex digits, any case, optional "urn:uuid:" prefix).
std::optional<std::string> canonical_uuid(std::string_view text);

inline bool is_uuid(std::string_view text) { return canonical_uuid(text).has_value(); }

}  // namespace lifeline::fake_prefect
