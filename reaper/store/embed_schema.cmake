# Writes a C++ source holding every migration file as a string literal, so the binary
# carries its schema. Run at build time by reaper/CMakeLists.txt:
#   cmake -DOUT=<file.cpp> -DFILES=<a.sql|b.sql|...> -P embed_schema.cmake
# File names are NNN_name.sql; NNN is the version, applied in increasing order.
string(REPLACE "|" ";" files "${FILES}")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  if(NOT name MATCHES "^([0-9]+)_(.+)$")
    message(FATAL_ERROR "migration file name must be NNN_name.sql: ${f}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  set(label "${CMAKE_MATCH_2}")
  file(READ "${f}" sql)
  if(sql MATCHES "\\)lifeline_sql\"")
    message(FATAL_ERROR "${f} contains the raw-string delimiter")
  endif()
  string(APPEND body "    {${version}, \"${label}\", R\"lifeline_sql(${sql})lifeline_sql\"},\n")
endforeach()
set(content "// Generated from reaper/store/schema/*.sql by embed_schema.cmake; do not edit.
#include \"reaper/store/embedded_schema.hpp\"

namespace lifeline::reaper::store {

std::span<const Migration> embedded_migrations() {
  static const Migration kMigrations[] = {
${body}  };
  return kMigrations;
}

}  // namespace lifeline::reaper::store
")
# Rewrite only when changed, so an unrelated reconfigure does not rebuild the world.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${content}")
