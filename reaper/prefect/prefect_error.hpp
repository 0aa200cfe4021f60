#pragma once
// How a Prefect call failed, as the `code` of an lifeline::Error. The reap pipeline retries
// transient failures later (nothing is lost while Prefect is down) and records the others.

#include <string>

#include "shared/result.hpp"

namespace lifeline::reaper::prefect {

namespace errc {
inline constexpr const char* kNotFound = "prefect_not_found";        // 404
inline constexpr const char* kRejected = "prefect_rejected";         // other 4xx: the request was refused
inline constexpr const char* kAuth = "prefect_auth";                 // 401/403: credentials (fixable by reload)
inline constexpr const char* kUnavailable = "prefect_unavailable";   // 5xx, 408, 429
inline constexpr const char* kUnreachable = "prefect_unreachable";   // no answer: refused, reset, timeout
inline constexpr const char* kBadResponse = "prefect_bad_response";  // an answer lifeline cannot read
}  // namespace errc

// The error code for an HTTP status that is not a success.
const char* error_code_for_status(int status);

// True when trying again later may succeed: the server is down, overloaded or unreachable,
// or the credentials are wrong (an operator can fix them with a reload).
bool is_transient(const Error& e);

}  // namespace lifeline::reaper::prefect
