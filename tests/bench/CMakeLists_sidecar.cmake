# sidecar_footprint: RSS, CPU per heartbeat, start-to-first-heartbeat and binary size of
# lifeline-sidecar (a program, not a test). Included from tests/bench/CMakeLists.txt.
if(TARGET lifeline_sidecar_test_support)
  add_executable(sidecar_footprint ${CMAKE_CURRENT_LIST_DIR}/sidecar_footprint.cpp)
  target_link_libraries(sidecar_footprint PRIVATE lifeline_sidecar_test_support)
  add_dependencies(sidecar_footprint lifeline-sidecar lifeline-sidecar-tls)
endif()
