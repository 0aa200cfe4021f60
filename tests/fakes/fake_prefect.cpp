#include "tests/fakes/fake_prefect.hpp"

#include <httplib.h>

#include <stdexcept>

#include "tests/fakes/api_dispatcher.hpp"
#include "tests/fakes/connection_dropper.hpp"
#include "tests/fakes/control_routes.hpp"
#include "tests/fakes/prefect_routes.hpp"
#include "tests/fakes/run_builder.hpp"
#include "tests/fakes/serializers.hpp"
#include "tests/fakes/store.hpp"

namespace lifeline::fake_prefect {

namespace {

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void write_reply(const Reply& reply, httplib::Response& res) {
  res.status = reply.status;
  for (const auto& [k, v] : reply.headers) res.set_header(k.c_str(), v);
  if (!reply.no_content) res.set_content(dump(reply.body), "application/json");
}

Reply injected(int status) {
  Json body = Json::object();
  body["detail"] = status == 503 ? "Service Unavailable" : "Injected fault";
  return json_reply(status, std::move(body));
}

bool exempt_from_auth(const httplib::Request& req) {
  return req.method == "GET" && (req.path == "/api/health" || req.path == "/api/ready");
}


}  // namespace

std::string basic_authorization(const std::string& auth_string) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < auth_string.size(); i += 3) {
    auto n = (static_cast<unsigned>(static_cast<unsigned char>(auth_string[i])) << 16) |
             (static_cast<unsigned>(static_cast<unsigned char>(auth_string[i + 1])) << 8) |
             static_cast<unsigned>(static_cast<unsigned char>(auth_string[i + 2]));
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  std::size_t rest = auth_string.size() - i;
  if (rest > 0) {
    unsigned n = static_cast<unsigned>(static_cast<unsigned char>(auth_string[i])) << 16;
    if (rest == 2) n |= static_cast<unsigned>(static_cast<unsigned char>(auth_string[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return "Basic " + out;
}

FakePrefect::FakePrefect(FakePrefectOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &system_clock_),
      store_(std::make_unique<Store>(options_.seed)),
      faults_(options_.seed ^ 0x9e3779b97f4a7c15ULL) {
  route_ctx_ = std::make_unique<RouteContext>(RouteContext{*store_, [this] { return now_locked(); }, options_.server_version});
  faults_.set_latency(options_.latency);
  faults_.set_fail_rate(options_.fail_rate);
  add_control_routes(control_routes_, *this);
}

FakePrefect::~FakePrefect() { stop(); }

StartResult FakePrefect::start() {
  if (server_) return {false, "already started"};
  std::string error;
  auto catalog = OpenApiCatalog::load(options_.openapi, error);
  if (!catalog) return {false, error};
  RouteTable routes;
  add_flow_routes(routes, *route_ctx_);
  add_flow_run_routes(routes, *route_ctx_);
  add_task_run_routes(routes, *route_ctx_);
  add_concurrency_routes(routes, *route_ctx_);
  add_event_routes(routes, *route_ctx_);
  auto dispatcher = std::make_unique<ApiDispatcher>(std::move(routes), *catalog);
  if (auto missing = dispatcher->templates_missing_from_schema(); !missing.empty()) {
    return {false, "route not in the OpenAPI document: " + missing.front()};
  }
  {
    std::lock_guard lock(mu_);
    catalog_ = std::move(catalog);
    dispatcher_ = std::move(dispatcher);
  }
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = false;
  }

  server_ = std::make_unique<httplib::Server>();
  std::size_t threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Short keep-alive: stop() waits for idle keep-alive connections to time out.
  server_->set_keep_alive_timeout(2);
  server_->set_tcp_nodelay(true);  // as uvicorn does for the real server: no delayed-ACK stalls
  server_->set_keep_alive_max_count(100000);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Patch(".*", handler);
  server_->Delete(".*", handler);
  server_->Options(".*", handler);

  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
  } else if (!server_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    server_.reset();
    return {false, "cannot listen on " + options_.host + ":" + std::to_string(options_.port)};
  }
  port_ = port;
  // The socket already listens: connections made before the thread runs wait in the backlog.
  server_thread_ = std::thread([this] { server_->listen_after_bind(); });
  return {true, ""};
}

void FakePrefect::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (server_) server_->stop();
  if (server_thread_.joinable()) server_thread_.join();
  server_.reset();
}

int FakePrefect::port() const { return port_; }
std::string FakePrefect::base_url() const { return "http://" + options_.host + ":" + std::to_string(port_); }
std::string FakePrefect::api_url() const { return base_url() + "/api"; }

std::chrono::system_clock::time_point FakePrefect::now_locked() const {
  return to_micros(clock_->wall_now() + time_offset_);
}

std::chrono::system_clock::time_point FakePrefect::now() const {
  std::lock_guard lock(mu_);
  return now_locked();
}

bool FakePrefect::pause_until(std::chrono::steady_clock::time_point t) {
  std::unique_lock lock(stop_mu_);
  if (std::chrono::steady_clock::now() >= t) return !stopping_;  // no wait, no system call
  return !stop_cv_.wait_until(lock, t, [this] { return stopping_; });
}

void FakePrefect::handle(const httplib::Request& req, httplib::Response& res) {
  if (req.path.rfind("/__fake/", 0) == 0) {
    handle_control(req, res);
  } else {
    handle_api(req, res);
  }
}

void FakePrefect::handle_api(const httplib::Request& req, httplib::Response& res) {
  auto started = std::chrono::steady_clock::now();
  RecordedCall rec;
  rec.method = req.method;
  rec.path = req.target.empty() ? req.path : req.target;
  rec.body = req.body;
  FaultAction action;
  {
    std::lock_guard lock(mu_);
    rec.time = now_locked();
    action = faults_.next(req.method, req.path, started);
  }
  std::optional<Reply> answer = answer_api(req, action);
  // The latency is the call's time at the fake, from its arrival: the handling above is
  // part of it, as a server's own work is part of its answer time.
  if (!pause_until(started + action.answer_after)) answer = injected(503);
  if (answer) {
    write_reply(*answer, res);
  } else {
    drop_connection(req.remote_addr, req.remote_port, req.local_port);
  }
  rec.status = answer ? answer->status : 0;
  rec.duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  std::lock_guard lock(mu_);
  calls_.add(std::move(rec));
}

std::optional<Reply> FakePrefect::answer_api(const httplib::Request& req, const FaultAction& action) {
  if (!pause_until(std::chrono::steady_clock::now() + action.delay_before)) return injected(503);
  if (action.drop_before) return std::nullopt;
  if (action.status_before) return injected(*action.status_before);

  Reply reply;
  if (options_.authorization && !exempt_from_auth(req) &&
      req.get_header_value("Authorization") != *options_.authorization) {
    reply = json_reply(401, Json::object({{"exception_message", "Unauthorized"}}));
  } else if (req.path != "/api" && req.path.rfind("/api/", 0) != 0) {
    reply = json_reply(404, Json::object({{"detail", "Not Found"}}));
  } else {
    std::multimap<std::string, std::string> query(req.params.begin(), req.params.end());
    std::lock_guard lock(mu_);
    reply = dispatcher_->handle(req.method, req.path.substr(4), query, req.body);
  }

  if (!pause_until(std::chrono::steady_clock::now() + action.delay_after)) return injected(503);
  if (action.drop_after) return std::nullopt;
  if (action.status_after) return injected(*action.status_after);
  return reply;
}

void FakePrefect::handle_control(const httplib::Request& req, httplib::Response& res) {
  auto routed = control_routes_.match(req.method, req.path.substr(7));  // keep the leading '/'
  auto* match = std::get_if<RouteTable::Match>(&routed);
  if (!match) {
    write_reply(json_reply(404, Json::object({{"detail", "Not Found"}})), res);
    return;
  }
  ApiRequest api;
  api.method = req.method;
  api.path = req.path;
  api.path_params = match->params;
  api.query = std::multimap<std::string, std::string>(req.params.begin(), req.params.end());
  api.body = req.body.empty() ? Json::object() : Json::parse(req.body, nullptr, false);
  if (api.body.is_discarded()) {
    write_reply(json_reply(400, Json::object({{"detail", "body is not JSON"}})), res);
    return;
  }
  try {
    auto outcome = match->route->handler(api);
    if (auto* err = std::get_if<ApiError>(&outcome)) {
      write_reply(json_reply(err->status, err->body), res);
    } else {
      write_reply(std::get<Reply>(outcome), res);
    }
  } catch (const std::exception& e) {
    write_reply(json_reply(400, Json::object({{"detail", e.what()}})), res);
  }
}

HttpAnswer FakePrefect::call(const std::string& method, const std::string& target, const std::string& body) const {
  std::string path = target;
  std::multimap<std::string, std::string> query;
  if (auto q = target.find('?'); q != std::string::npos) {
    path = target.substr(0, q);
    std::string rest = target.substr(q + 1);
    std::size_t start = 0;
    while (start <= rest.size()) {
      std::size_t amp = rest.find('&', start);
      std::string kv = rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      if (!kv.empty()) {
        auto eq = kv.find('=');
        query.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
      }
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }
  std::lock_guard lock(mu_);
  if (!dispatcher_) return {503, Json::object({{"detail", "FakePrefect::start() was not called"}})};
  if (path.rfind("/api/", 0) != 0) return {404, Json::object({{"detail", "Not Found"}})};
  Reply r = dispatcher_->handle(method, path.substr(4), query, body);
  return {r.status, r.body};
}

// ---- Objects for tests.

std::string FakePrefect::create_flow(const std::string& name) {
  std::lock_guard lock(mu_);
  return store_->upsert_flow(name, Json::array(), Json::object(), now_locked(), nullptr).id;
}

std::string FakePrefect::create_deployment(const DeploymentSpec& spec) {
  std::lock_guard lock(mu_);
  return RunBuilder(*store_).create_deployment(spec, now_locked());
}

std::string FakePrefect::create_run(const RunSpec& spec) {
  std::lock_guard lock(mu_);
  return RunBuilder(*store_).create_run(spec, now_locked());
}

std::string FakePrefect::create_task_run(const TaskRunSpecForTest& spec) {
  std::lock_guard lock(mu_);
  return RunBuilder(*store_).create_task_run(spec, now_locked());
}

std::string FakePrefect::create_tag_limit(const std::string& tag, int limit) {
  std::lock_guard lock(mu_);
  const ConcurrencyLimit* l = store_->limits().create("tag:" + tag, limit, true, 0.0, now_locked());
  if (!l) throw std::invalid_argument("a limit for tag " + tag + " exists");
  return l->id;
}

std::string FakePrefect::create_global_limit(const std::string& name, int limit) {
  std::lock_guard lock(mu_);
  const ConcurrencyLimit* l = store_->limits().create(name, limit, true, 0.0, now_locked());
  if (!l) throw std::invalid_argument("a limit named " + name + " exists");
  return l->id;
}

HttpAnswer FakePrefect::set_flow_run_state(const std::string& run_id, const Json& state, bool force) {
  std::lock_guard lock(mu_);
  auto outcome = store_->set_flow_run_state(run_id, parse_state_create(state), force, now_locked());
  if (auto* err = std::get_if<ApiError>(&outcome)) return {err->status, err->body};
  Reply r = orchestration_reply(std::get<SetStateOutcome>(outcome));
  return {r.status, r.body};
}

HttpAnswer FakePrefect::set_task_run_state(const std::string& task_run_id, const Json& state, bool force) {
  std::lock_guard lock(mu_);
  auto outcome = store_->set_task_run_state(task_run_id, parse_state_create(state), force, now_locked());
  if (auto* err = std::get_if<ApiError>(&outcome)) return {err->status, err->body};
  Reply r = orchestration_reply(std::get<SetStateOutcome>(outcome));
  return {r.status, r.body};
}

// ---- Inspection.

std::optional<Json> FakePrefect::flow_run(const std::string& id) const {
  std::lock_guard lock(mu_);
  const FlowRun* r = store_->flow_run(id);
  if (!r) return std::nullopt;
  return to_json(*r, now_locked());
}

std::optional<Json> FakePrefect::task_run(const std::string& id) const {
  std::lock_guard lock(mu_);
  const TaskRun* r = store_->task_run(id);
  if (!r) return std::nullopt;
  return to_json(*r, now_locked());
}

std::vector<Json> FakePrefect::history(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  std::vector<Json> out;
  if (const FlowRun* r = store_->flow_run(run_id)) {
    for (const State& s : r->states) out.push_back(to_json(s));
  }
  return out;
}

std::vector<Json> FakePrefect::task_run_history(const std::string& task_run_id) const {
  std::lock_guard lock(mu_);
  std::vector<Json> out;
  if (const TaskRun* r = store_->task_run(task_run_id)) {
    for (const State& s : r->states) out.push_back(to_json(s));
  }
  return out;
}

std::vector<Json> FakePrefect::task_runs_of(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  std::vector<Json> out;
  for (const TaskRun* t : store_->task_runs_of(run_id)) out.push_back(to_json(*t, now_locked()));
  return out;
}

std::optional<Json> FakePrefect::concurrency_limit(const std::string& id_or_name) const {
  std::lock_guard lock(mu_);
  const ConcurrencyLimit* l = store_->limits().find(id_or_name, now_locked());
  if (!l) return std::nullopt;
  return to_json(*l);
}

std::vector<Json> FakePrefect::events() const {
  std::lock_guard lock(mu_);
  const auto& all = store_->events().all();
  return {all.begin(), all.end()};
}

std::vector<RecordedCall> FakePrefect::calls() const {
  std::lock_guard lock(mu_);
  return calls_.all();
}

std::vector<RecordedCall> FakePrefect::calls_to(const std::string& method, const std::string& path_glob) const {
  std::vector<RecordedCall> out;
  for (auto& c : calls()) {
    std::string path = c.path.substr(0, c.path.find('?'));
    if ((method.empty() || method == c.method) && glob_match(path_glob, path)) out.push_back(std::move(c));
  }
  return out;
}

void FakePrefect::clear_calls() {
  std::lock_guard lock(mu_);
  calls_.clear();
}

int FakePrefect::inject(const Fault& fault) {
  std::lock_guard lock(mu_);
  return faults_.add(fault, std::chrono::steady_clock::now());
}

Json FakePrefect::faults() const {
  std::lock_guard lock(mu_);
  return faults_.describe(std::chrono::steady_clock::now());
}

void FakePrefect::clear_faults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

void FakePrefect::set_latency(std::chrono::milliseconds latency) {
  std::lock_guard lock(mu_);
  faults_.set_latency(latency);
}

void FakePrefect::set_fail_rate(double rate) {
  std::lock_guard lock(mu_);
  faults_.set_fail_rate(rate);
}

void FakePrefect::advance_time(std::chrono::milliseconds by) {
  std::lock_guard lock(mu_);
  time_offset_ += by;
}

}  // namespace lifeline::fake_prefect
