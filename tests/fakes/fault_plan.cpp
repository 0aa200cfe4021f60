#include "tests/fakes/fault_plan.hpp"

#include <algorithm>

namespace lifeline::fake_prefect {

bool glob_match(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.substr(0, 2) == "**") {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (glob_match(pattern.substr(2), text.substr(i))) return true;
    }
    return false;
  }
  if (pattern[0] == '*') {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (glob_match(pattern.substr(1), text.substr(i))) return true;
      if (i < text.size() && text[i] == '/') break;
    }
    return false;
  }
  return !text.empty() && pattern[0] == text[0] && glob_match(pattern.substr(1), text.substr(1));
}

int FaultPlan::add(Fault f, SteadyTime now) {
  Active a;
  a.id = next_id_++;
  if (f.for_duration) a.until = now + *f.for_duration;
  a.fault = std::move(f);
  faults_.push_back(std::move(a));
  return faults_.back().id;
}

Json FaultPlan::describe(SteadyTime now) const {
  Json out = Json::array();
  for (const auto& a : faults_) {
    if (a.until && *a.until <= now) continue;
    Json j = Json::object();
    j["id"] = a.id;
    j["method"] = a.fault.method;
    j["path"] = a.fault.path;
    j["kind"] = a.fault.kind == FaultKind::Status ? "status" : a.fault.kind == FaultKind::Delay ? "delay" : "drop";
    j["phase"] = a.fault.phase == FaultPhase::BeforeHandling ? "before" : "after";
    j["status"] = a.fault.status;
    j["times"] = a.fault.times ? Json(*a.fault.times) : Json(nullptr);
    j["used"] = a.used;
    j["delay_ms"] = a.fault.delay.count();
    out.push_back(std::move(j));
  }
  return out;
}

FaultAction FaultPlan::next(const std::string& method, const std::string& path, SteadyTime now) {
  FaultAction action;
  action.answer_after = latency_;
  faults_.erase(std::remove_if(faults_.begin(), faults_.end(),
                               [&](const Active& a) {
                                 return (a.until && *a.until <= now) || (a.fault.times && a.used >= *a.fault.times);
                               }),
                faults_.end());
  for (auto& a : faults_) {
    const Fault& f = a.fault;
    if (!f.method.empty() && f.method != "*" && f.method != method) continue;
    if (!f.path.empty() && !glob_match(f.path, path)) continue;
    ++a.used;
    bool before = f.phase == FaultPhase::BeforeHandling;
    switch (f.kind) {
      case FaultKind::Status:
        (before ? action.status_before : action.status_after) = f.status;
        break;
      case FaultKind::Delay:
        (before ? action.delay_before : action.delay_after) += f.delay;
        break;
      case FaultKind::Drop:
        (before ? action.drop_before : action.drop_after) = true;
        break;
    }
  }
  if (fail_rate_ > 0 && !action.status_before) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (u(rng_) < fail_rate_) action.status_before = 503;
  }
  return action;
}

std::optional<Fault> fault_from_json(const Json& j, std::string& error) {
  if (!j.is_object()) {
    error = "a fault is a JSON object";
    return std::nullopt;
  }
  Fault f;
  f.method = j.value("method", "");
  f.path = j.value("path", "");
  std::string kind = j.value("kind", "status");
  if (kind == "status") f.kind = FaultKind::Status;
  else if (kind == "delay") f.kind = FaultKind::Delay;
  else if (kind == "drop") f.kind = FaultKind::Drop;
  else {
    error = "kind must be status, delay or drop";
    return std::nullopt;
  }
  std::string phase = j.value("phase", "before");
  if (phase != "before" && phase != "after") {
    error = "phase must be before or after";
    return std::nullopt;
  }
  f.phase = phase == "before" ? FaultPhase::BeforeHandling : FaultPhase::AfterHandling;
  f.status = j.value("status", 503);
  if (auto it = j.find("times"); it != j.end() && it->is_number_integer()) f.times = it->get<int>();
  if (auto it = j.find("for_ms"); it != j.end() && it->is_number()) {
    f.for_duration = std::chrono::milliseconds(it->get<long long>());
  }
  f.delay = std::chrono::milliseconds(j.value("delay_ms", 0LL));
  return f;
}

}  // namespace lifeline::fake_prefect
