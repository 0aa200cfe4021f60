#pragma once
// Prefect events: those clients post to /events and those the server emits itself for
// every flow-run state change (prefect.flow-run.<State name>). Bounded, oldest dropped first.
// Thread-safety: not thread-safe; the Store's owner serialises access.

#include <cstddef>
#include <deque>
#include <vector>

#include "tests/fakes/json.hpp"
#include "tests/fakes/time_text.hpp"

namespace lifeline::fake_prefect {

class EventLog {
 public:
  explicit EventLog(std::size_t capacity = 20000) : capacity_(capacity) {}

  // `event` is an Event as validated by the schema; `received` is stamped here.
  void append(Json event, WallTime received);
  const std::deque<Json>& all() const { return events_; }

  // POST /events/filter: supports filter.event.{name,prefix,exclude_prefix},
  // filter.resource.{id,id_prefix}, filter.occurred.{since,until}, order, limit.
  Json filter(const Json& body) const;
  // POST /events/count-by/event with the same filter.
  Json count_by_event(const Json& body) const;

 private:
  std::vector<const Json*> matching(const Json& filter) const;

  std::size_t capacity_;
  std::deque<Json> events_;
};

}  // namespace lifeline::fake_prefect
