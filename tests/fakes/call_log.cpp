#include "tests/fakes/call_log.hpp"

#include "tests/fakes/time_text.hpp"

namespace lifeline::fake_prefect {

Json to_json(const RecordedCall& c) {
  Json j = Json::object();
  j["method"] = c.method;
  j["path"] = c.path;
  Json body = Json::parse(c.body, nullptr, /*allow_exceptions=*/false);
  j["body"] = c.body.empty() ? Json(nullptr) : body.is_discarded() ? Json(c.body) : body;
  j["status"] = c.status;
  j["time"] = format_time(c.time);
  j["duration_ms"] = static_cast<double>(c.duration.count()) / 1000.0;
  return j;
}

void CallLog::add(RecordedCall c) {
  calls_.push_back(std::move(c));
  while (calls_.size() > capacity_) calls_.pop_front();
}

}  // namespace lifeline::fake_prefect
