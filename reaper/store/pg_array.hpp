#pragma once
// Builds one-dimensional PostgreSQL arrays in the binary wire format, so a batch of
// heartbeats travels as a handful of binary parameters: no quoting or escaping of
// holder names, no text parsing on the server.
// Thread-safety: a plain value builder.

#include <cstdint>
#include <string>
#include <string_view>

namespace lifeline::reaper::store {

// Type OIDs of the built-in types we send (pg_type.oid, stable across versions).
namespace oid {
constexpr unsigned int int4 = 23, int8 = 20, text = 25, uuid = 2950;
constexpr unsigned int int4_array = 1007, int8_array = 1016, text_array = 1009, uuid_array = 2951;
}  // namespace oid

class PgArrayBuilder {
 public:
  explicit PgArrayBuilder(unsigned int element_oid, std::size_t reserve_bytes = 0);

  void add_text(std::string_view v);
  void add_int8(std::int64_t v);
  void add_int4(std::int32_t v);
  // `canonical` is an 8-4-4-4-12 hex UUID, validated by the caller; any other text is
  // sent as the nil UUID.
  void add_uuid(std::string_view canonical);

  std::size_t size() const { return count_; }
  // The encoded array; the builder is left empty.
  std::string finish();

 private:
  void put32(std::uint32_t v);
  std::string buf_;
  std::size_t count_ = 0;
};

}  // namespace lifeline::reaper::store
