#include "tests/fakes/concurrency_limits.hpp"

#include <algorithm>

namespace lifeline::fake_prefect {

const ConcurrencyLimit* ConcurrencyLimits::create(const std::string& name, int limit, bool active,
                                                  double slot_decay_per_second, WallTime now) {
  if (find_by_name(name, now)) return nullptr;
  ConcurrencyLimit l;
  l.id = ids_->next();
  l.created = l.updated = now;
  l.active = active;
  l.name = name;
  l.limit = limit;
  l.slot_decay_per_second = slot_decay_per_second;
  auto [it, inserted] = limits_.emplace(l.id, std::move(l));
  (void)inserted;
  return &it->second;
}

ConcurrencyLimit* ConcurrencyLimits::find(const std::string& id_or_name, WallTime now) {
  expire(now);
  if (auto it = limits_.find(id_or_name); it != limits_.end()) return &it->second;
  return find_by_name(id_or_name, now);
}

ConcurrencyLimit* ConcurrencyLimits::find_by_name(const std::string& name, WallTime now) {
  expire(now);
  for (auto& [id, l] : limits_) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

bool ConcurrencyLimits::remove(const std::string& id_or_name, WallTime now) {
  ConcurrencyLimit* l = find(id_or_name, now);
  if (!l) return false;
  std::string id = l->id;
  for (auto it = leases_.begin(); it != leases_.end();) {
    auto& ids = it->second.limit_ids;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    it = ids.empty() ? leases_.erase(it) : std::next(it);
  }
  limits_.erase(id);
  return true;
}

std::vector<const ConcurrencyLimit*> ConcurrencyLimits::all_sorted_by_name(WallTime now) {
  expire(now);
  std::vector<const ConcurrencyLimit*> out;
  for (const auto& [id, l] : limits_) out.push_back(&l);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

bool ConcurrencyLimits::increment(const std::vector<std::string>& names, int slots, WallTime now,
                                  std::vector<const ConcurrencyLimit*>* taken) {
  std::vector<ConcurrencyLimit*> targets;
  for (const auto& n : names) {
    ConcurrencyLimit* l = find_by_name(n, now);
    if (l && l->active) targets.push_back(l);
  }
  for (ConcurrencyLimit* l : targets) {
    if (l->active_slots + slots > l->limit) {
      l->denied_slots += slots;
      l->updated = now;
      return false;
    }
  }
  for (ConcurrencyLimit* l : targets) {
    l->active_slots += slots;
    l->updated = now;
    if (taken) taken->push_back(l);
  }
  return true;
}

void ConcurrencyLimits::decrement(const std::vector<std::string>& names, int slots,
                                  double occupancy_seconds, WallTime now,
                                  std::vector<const ConcurrencyLimit*>* released) {
  for (const auto& n : names) {
    ConcurrencyLimit* l = find_by_name(n, now);
    if (!l || !l->active) continue;
    l->active_slots = std::max(0, l->active_slots - slots);
    if (occupancy_seconds > 0) {
      // Prefect keeps a running average of how long slots are held.
      l->avg_slot_occupancy_seconds = (l->avg_slot_occupancy_seconds + occupancy_seconds / slots) / 2.0;
    }
    l->updated = now;
    if (released) released->push_back(l);
  }
}

const Lease& ConcurrencyLimits::create_lease(const std::vector<std::string>& limit_ids, int slots,
                                             std::chrono::seconds ttl, Json holder, WallTime now) {
  Lease lease;
  lease.id = ids_->next();
  lease.limit_ids = limit_ids;
  lease.slots = slots;
  lease.expires = now + ttl;
  lease.holder = std::move(holder);
  auto [it, inserted] = leases_.emplace(lease.id, std::move(lease));
  (void)inserted;
  return it->second;
}

bool ConcurrencyLimits::renew_lease(const std::string& lease_id, std::chrono::seconds ttl, WallTime now) {
  expire(now);
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;
  it->second.expires = now + ttl;
  return true;
}

bool ConcurrencyLimits::revoke_lease(const std::string& lease_id, WallTime now) {
  expire(now);
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;
  Lease lease = std::move(it->second);
  leases_.erase(it);
  give_back(lease, now);
  return true;
}

const Lease* ConcurrencyLimits::lease(const std::string& lease_id, WallTime now) {
  expire(now);
  auto it = leases_.find(lease_id);
  return it == leases_.end() ? nullptr : &it->second;
}

std::vector<std::string> ConcurrencyLimits::leases_held_by(const std::string& limit_id,
                                                           const std::string& holder_id, WallTime now) {
  expire(now);
  std::vector<std::string> out;
  for (const auto& [id, lease] : leases_) {
    bool on_limit = std::find(lease.limit_ids.begin(), lease.limit_ids.end(), limit_id) != lease.limit_ids.end();
    if (on_limit && lease.holder.is_object() && lease.holder.value("id", "") == holder_id) out.push_back(id);
  }
  return out;
}

std::vector<std::string> ConcurrencyLimits::holders(const std::string& limit_id, WallTime now) {
  expire(now);
  std::vector<std::string> out;
  for (const auto& [id, lease] : leases_) {
    bool on_limit = std::find(lease.limit_ids.begin(), lease.limit_ids.end(), limit_id) != lease.limit_ids.end();
    if (on_limit && lease.holder.is_object()) out.push_back(lease.holder.value("id", ""));
  }
  return out;
}

void ConcurrencyLimits::reset(const std::string& limit_id, WallTime now) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    auto& ids = it->second.limit_ids;
    ids.erase(std::remove(ids.begin(), ids.end(), limit_id), ids.end());
    it = ids.empty() ? leases_.erase(it) : std::next(it);
  }
  if (auto it = limits_.find(limit_id); it != limits_.end()) {
    it->second.active_slots = 0;
    it->second.updated = now;
  }
}

void ConcurrencyLimits::expire(WallTime now) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.expires <= now) {
      Lease lease = std::move(it->second);
      it = leases_.erase(it);
      give_back(lease, now);
    } else {
      ++it;
    }
  }
}

void ConcurrencyLimits::give_back(const Lease& lease, WallTime now) {
  for (const auto& id : lease.limit_ids) {
    auto it = limits_.find(id);
    if (it == limits_.end()) continue;
    it->second.active_slots = std::max(0, it->second.active_slots - lease.slots);
    it->second.updated = now;
  }
}

}  // namespace lifeline::fake_prefect
