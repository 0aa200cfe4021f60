#include "tests/fakes/event_log.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <map>
#include <string>

namespace lifeline::fake_prefect {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool any_of_strings(const Json& list, const std::function<bool(const std::string&)>& pred) {
  if (!list.is_array()) return false;
  return std::any_of(list.begin(), list.end(), [&](const Json& v) { return v.is_string() && pred(v.get<std::string>()); });
}

std::optional<WallTime> time_of(const Json& v) {
  return v.is_string() ? parse_time(v.get<std::string>()) : std::nullopt;
}

}  // namespace

void EventLog::append(Json event, WallTime received) {
  if (auto occurred = time_of(event.value("occurred", Json())); occurred) event["occurred"] = format_time(*occurred);
  if (!event.contains("related")) event["related"] = Json::array();
  if (!event.contains("payload")) event["payload"] = Json::object();
  if (!event.contains("follows")) event["follows"] = nullptr;
  event["received"] = format_time(received);
  events_.push_back(std::move(event));
  while (events_.size() > capacity_) events_.pop_front();
}

std::vector<const Json*> EventLog::matching(const Json& filter) const {
  std::vector<const Json*> out;
  const Json f = filter.is_object() ? filter : Json::object();
  const Json ev = f.value("event", Json::object());
  const Json res = f.value("resource", Json::object());
  const Json occ = f.value("occurred", Json::object());
  auto since = time_of(occ.value("since", Json()));
  auto until = time_of(occ.value("until", Json()));
  for (const Json& e : events_) {
    const std::string name = e.value("event", "");
    if (ev.is_object()) {
      const Json names = ev.value("name", Json());
      if (names.is_array() && !any_of_strings(names, [&](const std::string& n) { return n == name; })) continue;
      const Json prefixes = ev.value("prefix", Json());
      if (prefixes.is_array() && !any_of_strings(prefixes, [&](const std::string& p) { return starts_with(name, p); })) continue;
      const Json excluded = ev.value("exclude_prefix", Json());
      if (excluded.is_array() && any_of_strings(excluded, [&](const std::string& p) { return starts_with(name, p); })) continue;
    }
    if (res.is_object()) {
      const std::string rid = e.value("resource", Json::object()).value("prefect.resource.id", "");
      const Json ids = res.value("id", Json());
      if (ids.is_array() && !any_of_strings(ids, [&](const std::string& i) { return i == rid; })) continue;
      const Json id_prefixes = res.value("id_prefix", Json());
      if (id_prefixes.is_array() && !any_of_strings(id_prefixes, [&](const std::string& p) { return starts_with(rid, p); })) continue;
    }
    auto occurred = time_of(e.value("occurred", Json()));
    if (since && occurred && *occurred < *since) continue;
    if (until && occurred && *occurred > *until) continue;
    out.push_back(&e);
  }
  return out;
}

Json EventLog::filter(const Json& body) const {
  const Json f = body.value("filter", Json::object());
  auto found = matching(f);
  bool asc = f.is_object() && f.value("order", "DESC") == "ASC";
  std::stable_sort(found.begin(), found.end(), [asc](const Json* a, const Json* b) {
    auto ta = time_of(a->value("occurred", Json())).value_or(WallTime{});
    auto tb = time_of(b->value("occurred", Json())).value_or(WallTime{});
    return asc ? ta < tb : ta > tb;
  });
  std::size_t limit = 50;
  if (auto it = body.find("limit"); it != body.end() && it->is_number_integer()) {
    limit = static_cast<std::size_t>(std::max<std::int64_t>(0, it->get<std::int64_t>()));
  }
  Json events = Json::array();
  for (std::size_t i = 0; i < found.size() && i < limit; ++i) events.push_back(*found[i]);
  Json out = Json::object();
  out["events"] = std::move(events);
  out["total"] = found.size();
  out["next_page"] = nullptr;
  return out;
}

Json EventLog::count_by_event(const Json& body) const {
  struct Bucket {
    std::size_t count = 0;
    std::string first, last;
  };
  std::map<std::string, Bucket> buckets;
  for (const Json* e : matching(body.value("filter", Json::object()))) {
    auto& b = buckets[e->value("event", "")];
    std::string occurred = e->value("occurred", "");
    WallTime t = time_of(e->value("occurred", Json())).value_or(WallTime{});
    if (b.count == 0 || t < time_of(Json(b.first)).value_or(WallTime{})) b.first = occurred;
    if (b.count == 0 || t > time_of(Json(b.last)).value_or(WallTime{})) b.last = occurred;
    ++b.count;
  }
  std::vector<std::pair<std::string, Bucket>> sorted(buckets.begin(), buckets.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  Json out = Json::array();
  for (const auto& [name, b] : sorted) {
    Json row = Json::object();
    row["value"] = name;
    row["label"] = name;
    row["count"] = b.count;
    row["start_time"] = b.first;
    row["end_time"] = b.last;
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace lifeline::fake_prefect
