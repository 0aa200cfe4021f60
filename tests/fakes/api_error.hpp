#pragma once
// An error answer (status and JSON body), returned as a value by the store and the routes.
// Thread-safety: plain values.

#include <string>
#include <utility>
#include <variant>

#include "tests/fakes/json.hpp"

namespace lifeline::fake_prefect {

struct ApiError {
  int status = 404;
  Json body;
};

// FastAPI's HTTPException shape: {"detail": "..."}.
inline ApiError api_error(int status, std::string detail) {
  Json body = Json::object();
  body["detail"] = std::move(detail);
  return ApiError{status, std::move(body)};
}

template <typename T>
using Outcome = std::variant<T, ApiError>;

template <typename T>
bool failed(const Outcome<T>& o) { return std::holds_alternative<ApiError>(o); }

}  // namespace lifeline::fake_prefect
