// Fuzzes the parsing of Prefect's answers exactly as HttpPrefectClient does it: the body
// goes through json::parse without exceptions (a non-JSON body becomes a discarded
// value) and then to one of the parse_* functions. Each must give a value or an error
// value; a value must carry what decisions depend on (ids, state types).
//
// Input: byte 0 picks the parser (and, for set_state answers, the HTTP status); the
// rest is the response body. Seeds in corpus/fuzz_prefect_response are golden bodies
// recorded from real Prefect servers, prefixed with the matching selector byte.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "reaper/prefect/prefect_responses.hpp"

namespace {

using nlohmann::json;
using namespace lifeline::reaper::prefect;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_prefect_response: %s\n", what);
    std::abort();
  }
}

template <typename T>
void check_error(const lifeline::Result<T>& r) {
  if (!r) check(!r.error().code.empty() && !r.error().message.empty(), "an error without code or message");
}

void check_run(const FlowRun& r) { check(!r.id.empty(), "a flow run without an id was accepted"); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);

  switch (selector % 6) {
    case 0: {
      auto r = parse_flow_run(j);
      check_error(r);
      if (r) check_run(*r);
      break;
    }
    case 1: {
      auto r = parse_flow_runs(j);
      check_error(r);
      if (r) for (const auto& run : *r) check_run(run);
      break;
    }
    case 2: {
      auto r = parse_task_runs(j);
      check_error(r);
      break;
    }
    case 3: {
      static constexpr int kStatuses[] = {200, 201, 204, 409, 422, 500};
      auto r = parse_orchestration_result(j, kStatuses[(selector / 6) % 6]);
      check_error(r);
      break;
    }
    case 4: {
      auto r = parse_deployment(j);
      check_error(r);
      break;
    }
    default: {
      auto r = parse_state(j);
      check_error(r);
      if (r) check(!r->type.empty(), "a state without a type was accepted");
      break;
    }
  }
  return 0;
}
