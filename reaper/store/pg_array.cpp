#include "reaper/store/pg_array.hpp"

#include "shared/uuid.hpp"

namespace lifeline::reaper::store {
namespace {
constexpr std::size_t kCountOffset = 12;  // ndim, flags, elemtype, then the dimension's length
}  // namespace

PgArrayBuilder::PgArrayBuilder(unsigned int element_oid, std::size_t reserve_bytes) {
  buf_.reserve(20 + reserve_bytes);
  put32(1);            // dimensions
  put32(0);            // no NULL elements
  put32(element_oid);  // element type
  put32(0);            // length of the dimension, patched by finish()
  put32(1);            // lower bound
}

void PgArrayBuilder::put32(std::uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  buf_.append(b, 4);
}

void PgArrayBuilder::add_text(std::string_view v) {
  put32(static_cast<std::uint32_t>(v.size()));
  buf_.append(v);
  ++count_;
}

void PgArrayBuilder::add_int8(std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  put32(8);
  put32(static_cast<std::uint32_t>(u >> 32));
  put32(static_cast<std::uint32_t>(u));
  ++count_;
}

void PgArrayBuilder::add_int4(std::int32_t v) {
  put32(4);
  put32(static_cast<std::uint32_t>(v));
  ++count_;
}

void PgArrayBuilder::add_uuid(std::string_view canonical) {
  const auto bytes = uuid_bytes(canonical).value_or(std::array<std::uint8_t, 16>{});
  put32(16);
  buf_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ++count_;
}

std::string PgArrayBuilder::finish() {
  auto n = static_cast<std::uint32_t>(count_);
  buf_[kCountOffset] = static_cast<char>(n >> 24);
  buf_[kCountOffset + 1] = static_cast<char>(n >> 16);
  buf_[kCountOffset + 2] = static_cast<char>(n >> 8);
  buf_[kCountOffset + 3] = static_cast<char>(n);
  std::string out = std::move(buf_);
  buf_.clear();
  count_ = 0;
  return out;
}

}  // namespace lifeline::reaper::store
