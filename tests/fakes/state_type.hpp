#pragma once
// Prefect's StateType enum and the facts about it that orchestration relies on.
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace lifeline::fake_prefect {

enum class StateType { Scheduled, Pending, Running, Completed, Failed, Cancelled, Crashed, Paused, Cancelling };

std::string_view to_string(StateType t);                  // "RUNNING"
std::optional<StateType> parse_state_type(std::string_view s);
std::string default_state_name(StateType t);              // "Running"

// COMPLETED, FAILED, CANCELLED, CRASHED: Prefect's TERMINAL_STATES (also "final").
bool is_terminal(StateType t);

}  // namespace lifeline::fake_prefect
