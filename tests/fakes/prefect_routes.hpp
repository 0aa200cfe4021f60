#pragma once
// The Prefect REST endpoints the fake serves, grouped by resource. Each group registers
// handlers that turn a validated request into store calls and Prefect-shaped answers.
// Thread-safety: handlers run with FakePrefect's mutex held.

#include <functional>
#include <string>

#include "tests/fakes/route_table.hpp"
#include "tests/fakes/store.hpp"

namespace lifeline::fake_prefect {

struct RouteContext {
  Store& store;
  std::function<WallTime()> now;
  std::string server_version;  // what /admin/version answers
};

void add_flow_routes(RouteTable& routes, RouteContext& ctx);         // health, version, flows, deployments
void add_flow_run_routes(RouteTable& routes, RouteContext& ctx);     // flow runs and their states
void add_task_run_routes(RouteTable& routes, RouteContext& ctx);     // task runs and their states
void add_concurrency_routes(RouteTable& routes, RouteContext& ctx);  // v1 tag and v2 limits, leases
void add_event_routes(RouteTable& routes, RouteContext& ctx);        // events

// An OrchestrationResult answer: 201 when a state was written, 200 otherwise.
Reply orchestration_reply(const SetStateOutcome& outcome);
// A path parameter holding a UUID, in canonical form.
std::string id_param(const ApiRequest& req, const std::string& name);
// A JSON field as an optional string (null and absent are nullopt).
std::optional<std::string> string_field(const Json& obj, const char* key);

}  // namespace lifeline::fake_prefect
