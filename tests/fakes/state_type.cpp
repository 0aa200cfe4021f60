#include "tests/fakes/state_type.hpp"

#include <array>
#include <utility>

namespace lifeline::fake_prefect {

namespace {

constexpr std::array<std::pair<StateType, std::string_view>, 9> kNames{{
    {StateType::Scheduled, "SCHEDULED"},
    {StateType::Pending, "PENDING"},
    {StateType::Running, "RUNNING"},
    {StateType::Completed, "COMPLETED"},
    {StateType::Failed, "FAILED"},
    {StateType::Cancelled, "CANCELLED"},
    {StateType::Crashed, "CRASHED"},
    {StateType::Paused, "PAUSED"},
    {StateType::Cancelling, "CANCELLING"},
}};

}  // namespace

std::string_view to_string(StateType t) {
  for (const auto& [type, name] : kNames) {
    if (type == t) return name;
  }
  return "UNKNOWN";
}

std::optional<StateType> parse_state_type(std::string_view s) {
  for (const auto& [type, name] : kNames) {
    if (name == s) return type;
  }
  return std::nullopt;
}

std::string default_state_name(StateType t) {
  std::string upper(to_string(t));
  std::string out;
  out.reserve(upper.size());
  for (std::size_t i = 0; i < upper.size(); ++i) {
    char c = upper[i];
    out.push_back(i == 0 ? c : static_cast<char>(c - 'A' + 'a'));
  }
  return out;
}

bool is_terminal(StateType t) {
  return t == StateType::Completed || t == StateType::Failed || t == StateType::Cancelled ||
         t == StateType::Crashed;
}

}  // namespace lifeline::fake_prefect
