#pragma once
// FakePrefect: an in-process fake of the Prefect server's REST API (the parts lifeline
// uses), answering like Prefect 3.4.25 does: same paths under /api, same status codes,
// same body shapes, same orchestration answers, request bodies checked against the
// OpenAPI schema. Tests also drive it directly (create runs in any state, read state
// histories, list the calls received, inject faults) in C++ or over HTTP under /__fake/.
//
// Threading model: cpp-httplib's worker threads run the handlers. One mutex guards all
// state (store, call log, fault plan); it is never held while a handler waits out an
// injected latency or delay, and stop() wakes such waits. Every public method is
// thread-safe.
//
// Known deviations from a real Prefect server:
// - Only the endpoints lifeline and its tests use are served; other Prefect paths answer
//   501, unknown paths 404 {"detail": "Not Found"} as Prefect does.
// - A filter criterion the fake does not implement answers 501 instead of being applied.
// - Authentication only as an exact Authorization header (optional); no websocket (/api/events/in); no background services except
//   lease expiry, applied lazily (Prefect's Repossessor).
// - Tag concurrency slots are held until the task run leaves RUNNING (no lease expiry), and
//   a WAIT for a full tag limit always says 30 s (Prefect adds jitter).
// - Releasing a deployment slot whose lease already expired frees nothing more (Prefect may
//   decrement the limit a second time).
// - Run names default to "fake-run-N" instead of Prefect's random slugs; ids are random v4.
// - set_state on an unknown run answers 404 {"detail": "Flow run not found"} (not recorded
//   from a real server); no golden exchange covers it.
// - stop() may wait up to 2 s for a client that keeps an idle keep-alive connection open
//   (cpp-httplib's keep-alive wait); close clients first for fast teardown.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "shared/clock.hpp"
#include "tests/fakes/call_log.hpp"
#include "tests/fakes/fault_plan.hpp"
#include "tests/fakes/json.hpp"
#include "tests/fakes/openapi_catalog.hpp"
#include "tests/fakes/route_table.hpp"
#include "tests/fakes/run_spec.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace lifeline::fake_prefect {

class ApiDispatcher;
class Store;
struct RouteContext;

struct FakePrefectOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port; read it back with port()
  std::chrono::milliseconds latency{0};   // each /api call's time at the fake, from its arrival
  double fail_rate = 0.0;                 // probability of an injected 503 per /api call
  std::uint64_t seed = 1;                 // ids, failure draws
  std::size_t threads = 32;               // HTTP worker threads (one per open connection)
  std::filesystem::path openapi = default_openapi_path();
  const lifeline::Clock* clock = nullptr;  // wall time source; nullptr: the system clock
  std::string server_version = "3.4.25";  // what /api/admin/version answers
  // When set, every /api request but GET /api/health and /api/ready must carry exactly this
  // Authorization header, else 401 {"exception_message": "Unauthorized"} (what a server
  // with PREFECT_SERVER_API_AUTH_STRING answers). See basic_authorization().
  std::optional<std::string> authorization;
};

// "Basic <base64(auth_string)>", the header a client of a server with
// PREFECT_SERVER_API_AUTH_STRING=<auth_string> sends.
std::string basic_authorization(const std::string& auth_string);

struct StartResult {
  bool ok = false;
  std::string error;
  explicit operator bool() const { return ok; }
};

// A raw answer (status and JSON body), from set_state helpers and call().
struct HttpAnswer {
  int status = 0;
  Json body;
};

class FakePrefect {
 public:
  explicit FakePrefect(FakePrefectOptions options = {});
  ~FakePrefect();
  FakePrefect(const FakePrefect&) = delete;
  FakePrefect& operator=(const FakePrefect&) = delete;

  // Loads the schema, binds and serves on a background thread.
  [[nodiscard]] StartResult start();
  void stop();  // idempotent; also done by the destructor
  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT"
  std::string api_url() const;   // "http://127.0.0.1:PORT/api"

  // --- Objects, as tests set them up. Each throws std::invalid_argument on misuse.
  std::string create_flow(const std::string& name);
  std::string create_deployment(const DeploymentSpec& spec);  // returns the deployment id
  std::string create_run(const RunSpec& spec);                // returns the flow run id
  std::string create_task_run(const TaskRunSpecForTest& spec);
  std::string create_tag_limit(const std::string& tag, int limit);   // v1 limit (v2 "tag:<tag>")
  std::string create_global_limit(const std::string& name, int limit);

  // Proposes a state as another actor would (the flow's engine, a worker, the UI).
  // `state` is a StateCreate object. Answers like POST .../set_state.
  HttpAnswer set_flow_run_state(const std::string& run_id, const Json& state, bool force = false);
  HttpAnswer set_task_run_state(const std::string& task_run_id, const Json& state, bool force = false);

  // --- Inspection.
  std::optional<Json> flow_run(const std::string& id) const;        // FlowRun as the API shows it
  std::optional<Json> task_run(const std::string& id) const;
  std::vector<Json> history(const std::string& run_id) const;       // states, oldest first
  std::vector<Json> task_run_history(const std::string& task_run_id) const;
  std::vector<Json> task_runs_of(const std::string& run_id) const;
  std::optional<Json> concurrency_limit(const std::string& id_or_name) const;  // v2 view
  std::vector<Json> events() const;
  std::vector<RecordedCall> calls() const;
  // Calls whose method matches ("" any) and whose path matches the glob (see glob_match).
  std::vector<RecordedCall> calls_to(const std::string& method, const std::string& path_glob) const;
  void clear_calls();

  // --- Faults and time.
  int inject(const Fault& fault);  // returns the fault's id
  void clear_faults();
  Json faults() const;             // the active faults, for /__fake/faults
  void set_latency(std::chrono::milliseconds latency);
  void set_fail_rate(double rate);
  void advance_time(std::chrono::milliseconds by);  // moves the fake's wall clock forward
  std::chrono::system_clock::time_point now() const;

  // Serves one API request in process (no socket, no faults, not recorded): for
  // benchmarks of the fake itself and for tests of its routing. `target` is
  // "/api/..." with an optional query string.
  HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "") const;

 private:
  void handle(const httplib::Request& req, httplib::Response& res);
  void handle_api(const httplib::Request& req, httplib::Response& res);
  void handle_control(const httplib::Request& req, httplib::Response& res);
  // The answer to an /api call after its injected faults: nullopt drops the connection.
  std::optional<Reply> answer_api(const httplib::Request& req, const FaultAction& action);
  // Waits until `t` (returns at once when it has passed) unless stop() comes first; false
  // when stopping.
  bool pause_until(std::chrono::steady_clock::time_point t);
  std::chrono::system_clock::time_point now_locked() const;

  FakePrefectOptions options_;
  lifeline::SystemClock system_clock_;
  const lifeline::Clock* clock_;

  mutable std::mutex mu_;
  // Its own lock, so that a paused call wakes without waiting for the store's.
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::chrono::milliseconds time_offset_{0};
  std::unique_ptr<OpenApiCatalog> catalog_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RouteContext> route_ctx_;
  std::unique_ptr<ApiDispatcher> dispatcher_;
  RouteTable control_routes_;
  CallLog calls_;
  FaultPlan faults_;

  std::unique_ptr<httplib::Server> server_;
  std::thread server_thread_;
  int port_ = 0;
};

}  // namespace lifeline::fake_prefect
