#pragma once
// The heartbeat API's pure half: routing of paths, validation of request bodies and
// query strings into store requests, and rendering of answers. No I/O, so every
// malformed-request rule is unit-tested without a socket or a database.
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "reaper/config.hpp"
#include "reaper/store/lease_types.hpp"
#include "shared/http/message.hpp"
#include "shared/result.hpp"

namespace lifeline::reaper::api {

enum class Route { renew, release, list, healthz, readyz, metrics, not_found };

struct RouteMatch {
  Route route = Route::not_found;
  std::string_view run_id;     // raw path segment for renew and release (a view of the path)
  const char* allowed = "";    // the one method the route accepts, for 405
};

RouteMatch match_route(std::string_view path);

// True for "application/json" with optional parameters ("; charset=utf-8"), any case.
bool is_json_content_type(std::string_view content_type);

// Errors carry code "bad_request" and a sentence for the `detail` field.
Result<std::string> parse_run_id(std::string_view raw);
Result<store::RenewRequest> parse_renew(std::string_view run_id, std::string_view body, const LeasesConfig& leases);
Result<store::ReleaseRequest> parse_release(std::string_view run_id, std::string_view body);
Result<store::LeaseQuery> parse_lease_query(const http::Request& req);

constexpr std::size_t kMaxNameLength = 253;  // a Kubernetes object name
constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;

http::Response render_renew(std::string_view run_id, const store::RenewResult& r,
                            const std::string* stop_reason);
http::Response render_release(std::string_view run_id, const store::ReleaseResult& r);
http::Response render_list(const store::LeaseList& list);

}  // namespace lifeline::reaper::api
