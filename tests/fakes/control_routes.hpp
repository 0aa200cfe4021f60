#pragma once
// The fake's own control API under /__fake/ (not part of Prefect), for end-to-end tests
// and demos that drive the fake-prefect executable over HTTP:
//   POST   /__fake/flows            {"name"}                                   -> {"id"}
//   POST   /__fake/deployments      DeploymentSpec fields                       -> Deployment
//   POST   /__fake/runs             RunSpec fields                              -> FlowRun (201)
//   POST   /__fake/task_runs        {"flow_run_id","state","tags","name"}       -> TaskRun (201)
//   POST   /__fake/runs/{id}/set_state       {"state": StateCreate, "force"}    -> OrchestrationResult
//   POST   /__fake/task_runs/{id}/set_state  {"state": StateCreate, "force"}    -> OrchestrationResult
//   GET    /__fake/runs/{id}        FlowRun;  GET /__fake/runs/{id}/history -> [State]
//   GET    /__fake/task_runs/{id}/history -> [State]; GET /__fake/runs/{id}/task_runs -> [TaskRun]
//   POST   /__fake/limits           {"name" | "tag", "limit"}                   -> {"id"}
//   GET    /__fake/limits/{id_or_name}                                          -> v2 limit
//   GET    /__fake/calls?method=POST&path=/api/flow_runs/*/set_state            -> [call]
//   DELETE /__fake/calls
//   POST   /__fake/faults           {"method","path","kind":"status|delay|drop","phase":"before|after",
//                                    "status":503,"times":N,"for_ms":M,"delay_ms":D} -> {"id"}
//   GET    /__fake/faults;  DELETE /__fake/faults
//   PUT    /__fake/latency          {"ms": 5}
//   PUT    /__fake/fail_rate        {"rate": 0.1}
//   POST   /__fake/clock/advance    {"ms": 30000}                               -> {"now"}
//   GET    /__fake/events;  GET /__fake/health
// Thread-safety: handlers call FakePrefect's public (thread-safe) methods.

#include "tests/fakes/route_table.hpp"

namespace lifeline::fake_prefect {

class FakePrefect;

void add_control_routes(RouteTable& routes, FakePrefect& fake);

}  // namespace lifeline::fake_prefect
