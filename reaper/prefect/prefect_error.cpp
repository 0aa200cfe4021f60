#include "reaper/prefect/prefect_error.hpp"

namespace lifeline::reaper::prefect {

const char* error_code_for_status(int status) {
  if (status == 404) return errc::kNotFound;
  if (status == 401 || status == 403) return errc::kAuth;
  if (status == 408 || status == 429 || status >= 500) return errc::kUnavailable;
  if (status >= 400) return errc::kRejected;
  return errc::kBadResponse;  // 1xx/3xx: nothing lifeline asks for answers so
}

bool is_transient(const Error& e) {
  return e.code == errc::kUnavailable || e.code == errc::kUnreachable || e.code == errc::kAuth;
}

}  // namespace lifeline::reaper::prefect
