#pragma once
// JSON views of the model, with the field sets and order of Prefect 3.4.25's answers
// (FlowRun, TaskRun, State, Flow, Deployment, concurrency limits).
// Thread-safety: pure functions.

#include "tests/fakes/json.hpp"
#include "tests/fakes/model.hpp"

namespace lifeline::fake_prefect {

Json default_state_details();
Json default_flow_run_policy();
Json default_task_run_policy();

Json to_json(const State& s);
Json to_json(const Flow& f);
// `now` feeds the computed fields (estimated_run_time, estimated_start_time_delta).
Json to_json(const FlowRun& r, WallTime now);
Json to_json(const TaskRun& r, WallTime now);
// `limit` is the deployment's concurrency limit, if it has one.
Json to_json(const Deployment& d, const ConcurrencyLimit* limit);
// The v2 view. `created_view` adds the fields only the create answer carries.
Json to_json(const ConcurrencyLimit& l, bool created_view = false);
Json minimal_json(const ConcurrencyLimit& l);  // {id, name, limit}

Json optional_string(const std::optional<std::string>& s);
Json optional_time(const std::optional<WallTime>& t);

}  // namespace lifeline::fake_prefect
