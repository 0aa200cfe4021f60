#pragma once
// Where a run id that PostgreSQL returned sits in the batch that was sent.
// Thread-safety: a plain value, used by one thread.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include "reaper/store/lease_types.hpp"

namespace lifeline::reaper::store {

// The position in the batch of a run id that PostgreSQL returned. The upsert returns its
// rows in the order of its input in practice (not a guarantee), less those the rules
// refused: a walk forward from the last match finds each without hashing. Any other order
// falls back to a map of the whole batch, built once.
class BatchPositions {
 public:
  explicit BatchPositions(std::span<const RenewRequest> batch) : batch_(batch) {}
  std::optional<std::size_t> find(std::string_view id) {
    if (by_id_.empty()) {
      for (std::size_t i = next_; i < batch_.size(); ++i)
        if (batch_[i].run_id == id) {
          next_ = i + 1;
          return i;
        }
      by_id_.reserve(batch_.size());
      for (std::size_t i = 0; i < batch_.size(); ++i) by_id_.emplace(batch_[i].run_id, i);
    }
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::span<const RenewRequest> batch_;
  std::size_t next_ = 0;
  std::unordered_map<std::string_view, std::size_t, RunIdHash> by_id_;
};

}  // namespace lifeline::reaper::store
