#include "reaper/reap/run_status_cache.hpp"

#include "shared/uuid.hpp"

namespace lifeline::reaper::reap {

namespace {
// The sentence for a state that stops a pod, or null.
const char* stop_sentence_for_state(const std::string& t) {
  if (t == "CANCELLING") return "run is CANCELLING in Prefect";
  if (t == "CANCELLED") return "run was CANCELLED in Prefect";
  if (t == "CRASHED") return "run is CRASHED in Prefect while this pod still runs it";
  return nullptr;
}
}  // namespace

std::optional<std::string> stop_reason_for_state(const std::string& t) {
  const char* s = stop_sentence_for_state(t);
  if (s == nullptr) return std::nullopt;
  return std::string(s);
}

std::optional<RunStatusCache::Key> RunStatusCache::key_of(std::string_view id) {
  auto b = uuid_bytes(id);
  if (!b) return std::nullopt;
  Key k;
  for (std::size_t i = 0; i < 8; ++i) {
    k.hi = (k.hi << 8) | (*b)[i];
    k.lo = (k.lo << 8) | (*b)[8 + i];
  }
  return k;
}

std::string RunStatusCache::id_of(Key key) {
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < 8; ++i) {
    b[7 - i] = static_cast<std::uint8_t>(key.hi >> (8 * i));
    b[15 - i] = static_cast<std::uint8_t>(key.lo >> (8 * i));
  }
  return format_uuid(b);
}

RunStatusCache::RunStatusCache(const Clock& clock, Duration refresh) : clock_(clock), refresh_(refresh) {}

std::optional<std::string> RunStatusCache::stop_reason(std::string_view run_id) {
  auto key = key_of(run_id);
  if (!key) return std::nullopt;
  const auto now = clock_.steady_now();
  std::lock_guard lock(mu_);
  Entry& e = entries_[*key];
  e.last_asked = now;
  if (!e.queued && (!e.fetched || now - *e.fetched >= refresh_)) {
    e.queued = true;
    due_.push_back(*key);
  }
  if (e.reason == nullptr) return std::nullopt;
  return std::string(e.reason);
}

void RunStatusCache::run_changed(const std::string& run_id) {
  auto key = key_of(run_id);
  if (!key) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(*key);
  if (it == entries_.end()) return;
  it->second.reason = nullptr;
  it->second.fetched.reset();  // next question queues a fresh read
}

std::vector<std::string> RunStatusCache::take_due(std::size_t n) {
  std::lock_guard lock(mu_);
  evict_idle(clock_.steady_now());
  std::vector<std::string> out;
  while (!due_.empty() && out.size() < n) {
    out.push_back(id_of(due_.front()));
    due_.pop_front();
  }
  return out;
}

void RunStatusCache::update(const std::vector<std::string>& asked, const std::vector<prefect::FlowRun>& found) {
  const auto now = clock_.steady_now();
  std::unordered_map<Key, const prefect::FlowRun*, KeyHash> by_id;
  for (const auto& r : found)
    if (auto k = key_of(r.id)) by_id[*k] = &r;
  std::lock_guard lock(mu_);
  for (const auto& id : asked) {
    auto key = key_of(id);
    if (!key) continue;
    auto it = entries_.find(*key);
    if (it == entries_.end()) continue;
    Entry& e = it->second;
    e.queued = false;
    e.fetched = now;
    auto f = by_id.find(*key);
    e.reason = f == by_id.end() ? nullptr : stop_sentence_for_state(f->second->state_type());
  }
}

void RunStatusCache::requeue(const std::vector<std::string>& asked) {
  std::lock_guard lock(mu_);
  for (const auto& id : asked) {
    auto key = key_of(id);
    if (!key) continue;
    auto it = entries_.find(*key);
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
  erase_if(entries_, [&](const auto& kv) { return !kv.second.queued && now - kv.second.last_asked > 3 * refresh_; });
}

}  // namespace lifeline::reaper::reap
