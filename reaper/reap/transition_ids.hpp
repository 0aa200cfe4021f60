#pragma once
// Deterministic Prefect transition ids: the same proposal made again (after a crash, by
// another replica) carries the same id, so Prefect answers the duplicate-transition REJECT
// instead of applying it twice while the state is current.

#include <string>
#include <string_view>

namespace lifeline::reaper::reap {

// The namespace of every lifeline transition id (a fixed random UUID).
inline constexpr std::string_view kTransitionNamespace = "0c7c4f43-5b1e-4d3a-9b0f-6a2e8f51d9a4";

// UUIDv5(kTransitionNamespace, "<run_id>/<state_id>/<step>"): `state_id` is the Running
// (or Pending) state lifeline acted upon, `step` names the proposal ("crash", "reschedule",
// "crash-task:<task run id>", "crash-subflow:<flow run id>").
std::string transition_id(std::string_view run_id, std::string_view state_id, std::string_view step);

}  // namespace lifeline::reaper::reap
