#include "reaper/prefect/prefect_types.hpp"

namespace lifeline::reaper::prefect {

const std::string& FlowRun::state_type() const {
  static const std::string kNone;
  return state ? state->type : kNone;
}

bool OrchestrationResult::duplicate_transition() const {
  return status == "REJECT" && reason.find("already made this state transition") != std::string::npos;
}

}  // namespace lifeline::reaper::prefect
