# inject_test: unit tests of sidecar/inject (the base job template injector), and the check that
# manifests/prefect/base-job-template.json is exactly the injector's output.
# Included from tests/sidecar/CMakeLists.txt. Paths come from this file's location, so the
# test works from any build directory.
include(GoogleTest)
add_executable(inject_test ${CMAKE_CURRENT_LIST_DIR}/inject_test.cpp)
target_link_libraries(inject_test PRIVATE lifeline_inject lifeline_options GTest::gtest_main)
cmake_path(SET _lifeline_inject_manifests NORMALIZE "${CMAKE_CURRENT_LIST_DIR}/../../manifests")
target_compile_definitions(inject_test PRIVATE
  LIFELINE_INJECT_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data"
  LIFELINE_MANIFESTS_DIR="${_lifeline_inject_manifests}")
gtest_discover_tests(inject_test PROPERTIES LABELS unit)
