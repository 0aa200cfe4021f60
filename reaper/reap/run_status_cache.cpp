#include "reaper/reap/run_status_cache.hpp"

#include <unordered_set>

namespace lifeline::reaper::reap {

std::optional<std::string> stop_reason_for_state(const std::string& t) {
  if (t == "CANCELLING") return "run is CANCELLING in Prefect";
  if (t == "CANCELLED") return "run was CANCELLED in Prefect";
  if (t == "CRASHED") return "run is CRASHED in Prefect while this pod still runs it";
  return std::nullopt;
}

RunStatusCache::RunStatusCache(const Clock& clock, Duration refresh) : clock_(clock), refresh_(refresh) {}

std::optional<std::string> RunStatusCache::stop_reason(const std::string& run_id) {
  const auto now = clock_.steady_now();
  std::lock_guard lock(mu_);
  Entry& e = entries_[run_id];
  e.last_asked = now;
  if (!e.queued && (!e.fetched || now - *e.fetched >= refresh_)) {
    e.queued = true;
    due_.push_back(run_id);
  }
  return e.reason;
}

void RunStatusCache::run_changed(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(run_id);
  if (it == entries_.end()) return;
  it->second.reason.reset();
  it->second.fetched.reset();  // next question queues a fresh read
}

std::vector<std::string> RunStatusCache::take_due(std::size_t n) {
  std::lock_guard lock(mu_);
  evict_idle(clock_.steady_now());
  std::vector<std::string> out;
  while (!due_.empty() && out.size() < n) {
    out.push_back(std::move(due_.front()));
    due_.pop_front();
  }
  return out;
}

void RunStatusCache::update(const std::vector<std::string>& asked, const std::vector<prefect::FlowRun>& found) {
  const auto now = clock_.steady_now();
  std::unordered_map<std::string, const prefect::FlowRun*> by_id;
  for (const auto& r : found) by_id[r.id] = &r;
  std::lock_guard lock(mu_);
  for (const auto& id : asked) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    Entry& e = it->second;
    e.queued = false;
    e.fetched = now;
    auto f = by_id.find(id);
    e.reason = f == by_id.end() ? std::nullopt : stop_reason_for_state(f->second->state_type());
  }
}

void RunStatusCache::requeue(const std::vector<std::string>& asked) {
  std::lock_guard lock(mu_);
  for (const auto& id : asked) {
    auto it = entries_.find(id);
    if (it != entries_.end()) it->second.queued = false;  // queued again by the next question
  }
}

void RunStatusCache::set_refresh(Duration refresh) {
  std::lock_guard lock(mu_);
  refresh_ = refresh;
}

std::size_t RunStatusCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void RunStatusCache::evict_idle(SteadyTime now) {
  if (now - last_eviction_ < refresh_) return;
  last_eviction_ = now;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.queued && now - it->second.last_asked > 3 * refresh_) it = entries_.erase(it);
    else ++it;
  }
}

}  // namespace lifeline::reaper::reap
