#include "reaper/api/lease_request.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>

#include "reaper/api/json_fields.hpp"
#include "shared/uuid.hpp"

namespace lifeline::reaper::api {
namespace {

using json = nlohmann::json;
constexpr std::string_view kLeases = "/v1/leases";

Error bad(std::string detail) { return make_error("bad_request", std::move(detail)); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Percent-decoding of a query value ('+' is a space); nullopt when malformed.
std::optional<std::string> url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int v = 0;
      auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (r.ec != std::errc{} || r.ptr != s.data() + i + 3) return std::nullopt;
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The raw (undecoded) value of `key` in the query, or nullopt when absent.
std::optional<std::string_view> raw_param(std::string_view q, std::string_view key) {
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// The members `names` of the JSON object `body`, in that order.
Result<std::vector<JsonField>> read_object(std::string_view body, std::initializer_list<std::string_view> names) {
  std::vector<JsonField> fields;
  switch (read_top_level(body, names, fields)) {
    case JsonShape::not_json: return bad("request body is not valid JSON");
    case JsonShape::not_object: return bad("request body must be a JSON object");
    case JsonShape::object: break;
  }
  return fields;
}

Result<std::string> name_field(JsonField& f, const char* key, bool required) {
  if (!f.present()) {
    if (required) return bad(std::string("\"") + key + "\" is required");
    return std::string();
  }
  if (f.kind != JsonField::Kind::string) return bad(std::string("\"") + key + "\" must be a string");
  const auto& s = f.string;
  if (required && s.empty()) return bad(std::string("\"") + key + "\" must not be empty");
  if (s.size() > kMaxNameLength)
    return bad(std::string("\"") + key + "\" is longer than " + std::to_string(kMaxNameLength) + " characters");
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return bad(std::string("\"") + key + "\" contains a control character");
  return std::move(f.string);
}

std::string seconds_text(Duration d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000);
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<double>(d.count()) / 1000.0);
  return std::string(buf, r.ptr);
}

http::Response json_response(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

RouteMatch match_route(std::string_view path) {
  if (path == "/healthz") return {Route::healthz, {}, "GET"};
  if (path == "/readyz") return {Route::readyz, {}, "GET"};
  if (path == "/metrics") return {Route::metrics, {}, "GET"};
  if (path == kLeases || path == "/v1/leases/") return {Route::list, {}, "GET"};
  if (path.size() > kLeases.size() + 1 && path.substr(0, kLeases.size() + 1) == "/v1/leases/") {
    std::string_view rest = path.substr(kLeases.size() + 1);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return {Route::renew, rest, "PUT"};
    if (rest.substr(slash) == "/release" && slash > 0) return {Route::release, rest.substr(0, slash), "POST"};
  }
  return {Route::not_found, {}, ""};
}

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view media = ct.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  if (media.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < media.size(); ++i)
    if (lower(media[i]) != kJson[i]) return false;
  return true;
}

Result<std::string> parse_run_id(std::string_view raw) {
  const auto bytes = uuid_bytes(raw);
  if (!bytes) return bad("run id must be a UUID such as 0d9c6a2e-5f3b-4c1a-9e8d-7b6a5c4d3e2f");
  return format_uuid(*bytes);
}

Result<store::RenewRequest> parse_renew(std::string_view run_id, std::string_view body, const LeasesConfig& leases) {
  auto id = parse_run_id(run_id);
  if (!id) return id.error();
  auto doc = read_object(body, {"holder", "node", "ttl_seconds", "seq", "phase"});
  if (!doc) return doc.error();
  JsonField& holder_f = (*doc)[0];
  JsonField& node_f = (*doc)[1];
  const JsonField& ttl = (*doc)[2];
  const JsonField& seq = (*doc)[3];
  const JsonField& phase = (*doc)[4];
  store::RenewRequest r;
  r.run_id = std::move(*id);
  auto holder = name_field(holder_f, "holder", true);
  if (!holder) return holder.error();
  r.holder = std::move(*holder);
  auto node = name_field(node_f, "node", false);
  if (!node) return node.error();
  r.node = std::move(*node);

  if (ttl.kind == JsonField::Kind::absent) return bad("\"ttl_seconds\" is required");
  if (!ttl.is_number()) return bad("\"ttl_seconds\" must be a number");
  double secs = ttl.as_double();
  if (!std::isfinite(secs) || secs <= 0) return bad("\"ttl_seconds\" must be greater than 0");
  // Clamp before converting so that huge values cannot overflow.
  double ms = std::min(secs * 1000.0, static_cast<double>(leases.max_ttl.count()));
  r.ttl = grant_ttl(Duration{static_cast<std::int64_t>(std::ceil(ms))}, leases);

  if (seq.present()) {
    if (!seq.is_integer()) return bad("\"seq\" must be an integer");
    auto value = seq.as_int64();
    if (!value || *value < 0) return bad("\"seq\" must be a non-negative 64-bit integer");
    r.seq = *value;
  }

  if (phase.present()) {
    if (phase.kind != JsonField::Kind::string) return bad("\"phase\" must be a string");
    auto p = parse_lease_phase(phase.string);
    if (!p) return bad("\"phase\" must be \"running\" or \"terminating\"");
    r.phase = *p;
  }
  return r;
}

Result<store::ReleaseRequest> parse_release(std::string_view run_id, std::string_view body) {
  auto id = parse_run_id(run_id);
  if (!id) return id.error();
  auto doc = read_object(body, {"holder", "outcome", "exit_code"});
  if (!doc) return doc.error();
  JsonField& holder_f = (*doc)[0];
  const JsonField& outcome = (*doc)[1];
  const JsonField& code = (*doc)[2];
  store::ReleaseRequest r;
  r.run_id = std::move(*id);
  auto holder = name_field(holder_f, "holder", true);
  if (!holder) return holder.error();
  r.holder = std::move(*holder);
  if (outcome.kind == JsonField::Kind::absent) return bad("\"outcome\" is required");
  if (outcome.kind != JsonField::Kind::string) return bad("\"outcome\" must be a string");
  auto o = parse_release_outcome(outcome.string);
  if (!o) return bad("\"outcome\" must be \"exited\" or \"evicted\"");
  r.outcome = *o;
  if (code.present()) {
    if (!code.is_integer()) return bad("\"exit_code\" must be an integer");
    auto value = code.as_int64();
    if (!value || *value < INT32_MIN || *value > INT32_MAX) return bad("\"exit_code\" is out of range");
    r.exit_code = static_cast<std::int32_t>(*value);
  } else if (r.outcome == ReleaseOutcome::exited) {
    return bad("\"exit_code\" is required when outcome is \"exited\"");
  }
  return r;
}

Result<store::LeaseQuery> parse_lease_query(const http::Request& req) {
  store::LeaseQuery q;
  q.limit = kDefaultListLimit;
  for (std::string_view key : {"state", "holder", "node", "limit"}) {
    auto raw = raw_param(req.query, key);
    if (!raw) continue;
    auto value = url_decode(*raw);
    if (!value) return bad("query parameter \"" + std::string(key) + "\" is not properly percent-encoded");
    if (key == "state") {
      auto s = parse_lease_state(*value);
      if (!s) return bad("state must be active, expired, reaped or released");
      q.state = *s;
    } else if (key == "holder") {
      q.holder = *value;
    } else if (key == "node") {
      q.node = *value;
    } else {
      int n = 0;
      auto r = std::from_chars(value->data(), value->data() + value->size(), n);
      if (r.ec != std::errc{} || r.ptr != value->data() + value->size() || n < 1 || n > kMaxListLimit)
        return bad("limit must be an integer from 1 to " + std::to_string(kMaxListLimit));
      q.limit = n;
    }
  }
  return q;
}

http::Response render_renew(std::string_view run_id, const store::RenewResult& r, const std::string* stop_reason) {
  switch (r.status) {
    case store::RenewStatus::renewed:
    case store::RenewStatus::stop: {
      std::string body;
      body.reserve(160);
      body += "{\"run_id\":\"";
      body += run_id;
      body += "\",\"epoch\":";
      body += std::to_string(r.epoch);
      body += ",\"ttl_seconds\":";
      body += seconds_text(r.ttl);
      const std::string* reason = r.status == store::RenewStatus::stop ? &r.reason : stop_reason;
      if (reason == nullptr) {
        body += ",\"directive\":\"continue\"}";
      } else {
        body += ",\"directive\":\"stop\",\"reason\":";
        body += http::json_quote(*reason);
        body += '}';
      }
      return json_response(200, std::move(body));
    }
    case store::RenewStatus::conflict:
      return json_response(409, "{\"error\":\"holder_conflict\",\"detail\":" + http::json_quote(r.reason) +
                                    ",\"directive\":\"stop\"}");
    case store::RenewStatus::unavailable: break;
  }
  return http::json_error(503, "store_unavailable",
                          "the store cannot make the renewal durable: " + (r.reason.empty() ? "unknown" : r.reason));
}

http::Response render_release(std::string_view run_id, const store::ReleaseResult& r) {
  auto ok = [&](const char* note) {
    std::string body = "{\"run_id\":\"" + std::string(run_id) + "\",\"epoch\":" + std::to_string(r.epoch) +
                       ",\"state\":" + http::json_quote(r.state);
    if (note != nullptr && !r.reason.empty()) body += ",\"detail\":" + http::json_quote(r.reason);
    return json_response(200, body + "}");
  };
  switch (r.status) {
    case store::ReleaseStatus::released: return ok(nullptr);
    case store::ReleaseStatus::already_released:
    case store::ReleaseStatus::closed: return ok("note");
    case store::ReleaseStatus::conflict:
      return json_response(409, "{\"error\":\"holder_conflict\",\"detail\":" + http::json_quote(r.reason) +
                                    ",\"directive\":\"stop\"}");
    case store::ReleaseStatus::not_found: return http::json_error(404, "lease_not_found", r.reason);
    case store::ReleaseStatus::unavailable: break;
  }
  return http::json_error(503, "store_unavailable", "the store cannot record the release: " + r.reason);
}

http::Response render_list(const store::LeaseList& list) {
  if (!list.ok) return http::json_error(503, "store_unavailable", "cannot list leases: " + list.error);
  json arr = json::array();
  for (const auto& l : list.leases) {
    json o = {{"run_id", l.run_id},       {"holder", l.holder},         {"node", l.node},
              {"epoch", l.epoch},         {"seq", l.seq},               {"ttl_seconds", static_cast<double>(l.ttl_ms) / 1000.0},
              {"phase", l.phase},         {"state", l.state},           {"renewed_at", l.renewed_at},
              {"expires_at", l.expires_at}, {"created_at", l.created_at}, {"state_changed_at", l.state_changed_at}};
    o["released_at"] = l.released_at ? json(*l.released_at) : json(nullptr);
    o["release_outcome"] = l.release_outcome ? json(*l.release_outcome) : json(nullptr);
    o["exit_code"] = l.exit_code ? json(*l.exit_code) : json(nullptr);
    arr.push_back(std::move(o));
  }
  return json_response(200, arr.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace lifeline::reaper::api
