#pragma once
// The JSON type of the fake: an insertion-ordered object, so that answers list their
// fields in the order Prefect's server does (easier to diff against the golden files).

#include <nlohmann/json.hpp>

namespace lifeline::fake_prefect {

using Json = nlohmann::ordered_json;

}  // namespace lifeline::fake_prefect
