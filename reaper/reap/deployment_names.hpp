#pragma once
// Deployment id -> name, for [[policy]] deployment globs (a flow run carries only the id).
// Names are looked up once and kept; a deployment's name does not change under its id.
// Thread-safety: thread-safe (one mutex); lookups happen outside the lock.

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace lifeline::reaper::reap {

class DeploymentNames {
 public:
  std::optional<std::string> find(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto it = names_.find(id);
    if (it == names_.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& id, const std::string& name) {
    std::lock_guard lock(mu_);
    if (names_.size() > 10'000) names_.clear();  // bound memory; entries are cheap to re-read
    names_[id] = name;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> names_;
};

}  // namespace lifeline::reaper::reap
