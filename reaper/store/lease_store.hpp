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

  // Renews a batch whose run ids are distinct: one UPDATE of the rows whose holder
  // renews its active lease, committed once; only if some rows were left, one upsert
  // for new leases and takeovers (committed on its own), then one query to tell stop
  // from conflict. On error the batch failed and some of it may be durable: the caller
  // answers 503 for all of it, which the sidecar treats as a failed heartbeat.
  Result<std::vector<RenewResult>> renew_batch(std::span<const RenewRequest> batch, Duration timeout);

  Result<ReleaseResult> release(const ReleaseRequest& req, Duration timeout);
  Result<std::vector<LeaseRow>> list(const LeaseQuery& q, Duration timeout);
  Status ping(Duration timeout);

 private:
  // Runs a renewal statement over the batch's rows, leaving out those `skip` marks.
  Result<PgResult> exec_renew(const std::string& statement, std::span<const RenewRequest> batch,
                              const std::vector<bool>* skip, Duration timeout);

  PgConnection& conn_;
};

}  // namespace lifeline::reaper::store
