#include "reaper/reap/reap_job.hpp"

#include <array>
#include <utility>

namespace lifeline::reaper::reap {
namespace {

constexpr std::array<std::pair<ReapReason, std::string_view>, 6> kReasons{{
    {ReapReason::expired, "expired"},
    {ReapReason::evicted, "evicted"},
    {ReapReason::exit_code, "exit_code"},
    {ReapReason::orphan, "orphan"},
    {ReapReason::stuck_pending, "stuck_pending"},
    {ReapReason::incomplete, "incomplete"},
}};

constexpr std::array<std::pair<ReapStep, std::string_view>, 7> kSteps{{
    {ReapStep::detected, "detected"},
    {ReapStep::crashing, "crashing"},
    {ReapStep::freeing, "freeing"},
    {ReapStep::rescheduling, "rescheduling"},
    {ReapStep::done, "done"},
    {ReapStep::skipped, "skipped"},
    {ReapStep::failed, "failed"},
}};

}  // namespace

std::string_view to_string(ReapReason r) {
  for (const auto& [k, v] : kReasons)
    if (k == r) return v;
  return "unknown";
}

std::string_view to_string(ReapStep s) {
  for (const auto& [k, v] : kSteps)
    if (k == s) return v;
  return "unknown";
}

std::optional<ReapReason> parse_reason(std::string_view text) {
  for (const auto& [k, v] : kReasons)
    if (v == text) return k;
  return std::nullopt;
}

std::optional<ReapStep> parse_step(std::string_view text) {
  for (const auto& [k, v] : kSteps)
    if (v == text) return k;
  return std::nullopt;
}

bool is_final(ReapStep s) { return s == ReapStep::done || s == ReapStep::skipped || s == ReapStep::failed; }

}  // namespace lifeline::reaper::reap
