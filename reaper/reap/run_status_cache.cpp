#include "reaper/reap/run_status_cache.hpp"

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

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<RunStatusCache::Key> RunStatusCache::key_of(std::string_view id) {
  if (id.size() != 36) return std::nullopt;
  std::uint64_t half[2] = {0, 0};
  int digits = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (id[i] != '-') return std::nullopt;
      continue;
    }
    int v = hex_value(id[i]);
    if (v < 0) return std::nullopt;
    std::uint64_t& h = half[digits / 16];
    h = (h << 4) | static_cast<std::uint64_t>(v);
    ++digits;
  }
  return Key{half[0], half[1]};
}

std::string RunStatusCache::id_of(Key key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int digit = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    std::uint64_t h = digit < 16 ? key.hi : key.lo;
    out[i] = kHex[(h >> (4 * (15 - digit % 16))) & 0xF];
    ++digit;
  }
  return out;
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
