#pragma once
// The schema migrations compiled into the binary (reaper/store/schema/NNN_name.sql,
// embedded at build time), in increasing version order.
// Thread-safety: immutable static data.

#include <span>
#include <string_view>

namespace lifeline::reaper::store {

struct Migration {
  int version;            // NNN of the file name
  std::string_view name;  // the rest of the file name, without .sql
  std::string_view sql;   // applied in one transaction
};

std::span<const Migration> embedded_migrations();

}  // namespace lifeline::reaper::store
