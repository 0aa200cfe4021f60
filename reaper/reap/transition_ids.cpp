#include "reaper/reap/transition_ids.hpp"

#include "shared/uuid.hpp"

namespace lifeline::reaper::reap {

std::string transition_id(std::string_view run_id, std::string_view state_id, std::string_view step) {
  std::string name;
  name.reserve(run_id.size() + state_id.size() + step.size() + 2);
  name.append(run_id).append("/").append(state_id).append("/").append(step);
  return uuid_v5(kTransitionNamespace, name);
}

}  // namespace lifeline::reaper::reap
