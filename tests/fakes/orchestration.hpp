#pragma once
// Prefect's orchestration rules for proposed state changes, as pure functions.
//
// The rules follow Prefect's CoreFlowPolicy / CoreTaskPolicy (and MinimalFlowPolicy /
// MinimalTaskPolicy when the client sets `force`), in the same priority order, with the
// same status codes and reasons as Prefect 3.4.25 answers (see the golden exchanges).
// The store gathers the facts (current state, concurrency slots, ...) into a context, asks
// for a Decision and then applies it; nothing here touches shared state or reads a clock.
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fakes/state_type.hpp"
#include "tests/fakes/time_text.hpp"

namespace lifeline::fake_prefect {

enum class SetStateStatus { Accept, Reject, Abort, Wait };
std::string_view to_string(SetStateStatus s);       // "ACCEPT"
std::string_view details_type(SetStateStatus s);    // "accept_details"

// The facts about a state that rules look at.
struct StateFacts {
  StateType type = StateType::Pending;
  std::string name;
  std::optional<std::string> transition_id;
  std::optional<WallTime> scheduled_time;
  bool has_persisted_result = false;  // data set and not {"type": "unpersisted"}
  bool pause_reschedule = false;
  std::optional<WallTime> pause_timeout;
  std::optional<std::string> pause_key;
  std::optional<bool> retriable;
  std::optional<std::string> message;
};

// The state a rule puts in place of the proposed one (REJECT into a new state).
struct Replacement {
  StateType type = StateType::Scheduled;
  std::string name;
  std::optional<WallTime> scheduled_time;
  std::optional<std::string> message;
};

enum class SlotAvailability { NoLimit, Available, Full, ZeroLimit };
enum class CollisionStrategy { Enqueue, CancelNew };

struct Decision {
  SetStateStatus status = SetStateStatus::Accept;
  std::optional<std::string> reason;      // null for ACCEPT
  int delay_seconds = 0;                  // WAIT only
  std::optional<Replacement> replacement; // REJECT into a new state, which is written
  std::optional<std::string> rename;      // ACCEPT under another name (RenameReruns)

  // Effects on the run, applied only when a state is written.
  bool copy_scheduled_time = false;       // SCHEDULED -> PENDING keeps the scheduled time
  bool copy_lease_id = false;             // PENDING -> RUNNING keeps the deployment lease
  bool take_deployment_slot = false;
  bool release_deployment_slot = false;
  std::vector<std::string> take_tag_slots;  // task runs: tags whose limits get a slot
  bool release_tag_slots = false;
  bool set_retry_type = false;            // when true, retry_type becomes `retry_type`
  std::optional<std::string> retry_type;
  bool reset_pause_metadata = false;      // resuming = false, pause_keys = []
  std::optional<std::string> add_pause_key;
  bool set_resuming = false;
  bool reset_task_run_count = false;

  // True when the answer carries a newly written state (HTTP 201).
  bool writes_state() const {
    return status == SetStateStatus::Accept ||
           (status == SetStateStatus::Reject && replacement.has_value());
  }
  // The type of the state written, when one is.
  std::optional<StateType> written_type(StateType proposed) const;
};

struct FlowRunContext {
  std::optional<StateFacts> current;
  bool has_deployment = false;
  bool has_parent_task_run = false;
  bool has_infrastructure_pid = false;
  bool resuming = false;
  std::vector<std::string> pause_keys;
  int run_count = 0;
  std::optional<int> retries;          // empirical_policy.retries
  double retry_delay_seconds = 0;
  SlotAvailability deployment_slot = SlotAvailability::NoLimit;
  CollisionStrategy collision_strategy = CollisionStrategy::Enqueue;
  WallTime now{};
};

struct TagLimitFacts {
  std::string tag;
  int limit = 0;
  int active = 0;
  bool held_by_this_run = false;
};

struct TaskRunContext {
  std::optional<StateFacts> current;
  bool has_flow_run = false;
  std::optional<StateFacts> flow_run_state;  // the enclosing flow run's current state
  int run_count = 0;
  std::optional<int> retries;
  double retry_delay_seconds = 0;
  std::vector<TagLimitFacts> tag_limits;     // only tags that have a limit
  WallTime now{};
};

// Seconds to wait until `scheduled`, rounded the way Prefect's WaitForScheduledTime does.
int wait_seconds_until(WallTime scheduled, WallTime now);

Decision decide_flow_run_transition(const FlowRunContext& ctx, const StateFacts& proposed,
                                    bool force);
Decision decide_task_run_transition(const TaskRunContext& ctx, const StateFacts& proposed,
                                    bool force);

// How long a run blocked by a full deployment limit waits (PREFECT_DEPLOYMENT_CONCURRENCY_SLOT_WAIT_SECONDS).
inline constexpr int kDeploymentSlotWaitSeconds = 30;
// How long a task blocked by a full tag limit is told to wait
// (PREFECT_TASK_RUN_TAG_CONCURRENCY_SLOT_WAIT_SECONDS; the real server adds jitter).
inline constexpr int kTagSlotWaitSeconds = 30;

}  // namespace lifeline::fake_prefect
