#pragma once
// The lease table's queries: the group-commit upsert of a batch of renewals (the lease
// rules applied atomically in SQL), releases, listings and a liveness ping. Synchronous:
// it runs on the store thread, which owns the connection (see lease_batcher.hpp).
// Thread-safety: not thread-safe; used by one thread with the connection it was given.

#include <span>
#include <vector>

#include "reaper/store/lease_types.hpp"
#include "reaper/store/pg_connection.hpp"

namespace lifeline::reaper::store {

class LeaseStore {
 public:
  explicit LeaseStore(PgConnection& conn) : conn_(conn) {}

  // Prepares the statements on this connection (after every reconnect).
  Status prepare();

  // Renews a batch whose run ids are distinct: one upsert, committed once, then (only
  // if some rows were not renewed) one query to tell stop from conflict. On error the
  // whole batch failed and nothing of it is durable... or all of it is: the caller
  // answers 503 either way, which the sidecar treats as a failed heartbeat.
  Result<std::vector<RenewResult>> renew_batch(std::span<const RenewRequest> batch, Duration timeout);

  Result<ReleaseResult> release(const ReleaseRequest& req, Duration timeout);
  Result<std::vector<LeaseRow>> list(const LeaseQuery& q, Duration timeout);
  Status ping(Duration timeout);

 private:
  PgConnection& conn_;
};

}  // namespace lifeline::reaper::store
