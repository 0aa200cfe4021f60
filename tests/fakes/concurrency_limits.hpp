#pragma once
// Prefect 3's v2 concurrency limits and their leases. Deployment limits ("deployment:<id>")
// and tag limits ("tag:<tag>", what the v1 /concurrency_limits API shows) are v2 limits too.
// A lease holds slots until it is revoked or expires; expiry is applied lazily on every
// access, which stands in for Prefect's Repossessor service.
// Thread-safety: not thread-safe; the Store's owner serialises access.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/model.hpp"
#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {

class ConcurrencyLimits {
 public:
  explicit ConcurrencyLimits(UuidGenerator& ids) : ids_(&ids) {}

  // nullptr when the name is taken.
  const ConcurrencyLimit* create(const std::string& name, int limit, bool active,
                                 double slot_decay_per_second, WallTime now);
  ConcurrencyLimit* find(const std::string& id_or_name, WallTime now);
  ConcurrencyLimit* find_by_name(const std::string& name, WallTime now);
  bool remove(const std::string& id_or_name, WallTime now);
  std::vector<const ConcurrencyLimit*> all_sorted_by_name(WallTime now);

  // Takes `slots` on every named active limit, or on none of them (false when one is full;
  // that limit's denied_slots grows). Names without a limit are skipped.
  bool increment(const std::vector<std::string>& names, int slots, WallTime now,
                 std::vector<const ConcurrencyLimit*>* taken);
  void decrement(const std::vector<std::string>& names, int slots, double occupancy_seconds,
                 WallTime now, std::vector<const ConcurrencyLimit*>* released);

  const Lease& create_lease(const std::vector<std::string>& limit_ids, int slots,
                            std::chrono::seconds ttl, Json holder, WallTime now);
  // false when the lease no longer exists (revoked or expired).
  bool renew_lease(const std::string& lease_id, std::chrono::seconds ttl, WallTime now);
  // Returns the slots to its limits; false when the lease no longer exists.
  bool revoke_lease(const std::string& lease_id, WallTime now);
  const Lease* lease(const std::string& lease_id, WallTime now);
  // Leases on `limit_id` whose holder has this id.
  std::vector<std::string> leases_held_by(const std::string& limit_id, const std::string& holder_id,
                                          WallTime now);
  // Holder ids of the leases on a limit (the v1 view's active_slots).
  std::vector<std::string> holders(const std::string& limit_id, WallTime now);
  // Drops every lease on the limit and sets its active slots to 0 (v1 reset).
  void reset(const std::string& limit_id, WallTime now);

 private:
  void expire(WallTime now);
  void give_back(const Lease& lease, WallTime now);

  UuidGenerator* ids_;
  std::map<std::string, ConcurrencyLimit> limits_;  // by id
  std::map<std::string, Lease> leases_;             // by id
};

}  // namespace lifeline::fake_prefect
