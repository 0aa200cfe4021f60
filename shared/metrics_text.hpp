#pragma once
// Serves a prometheus-cpp registry in the text exposition format from our own HTTP
// server (one port, no civetweb threads).

#include <prometheus/registry.h>

#include <string>

#include "shared/http/message.hpp"

namespace lifeline {

std::string serialize_metrics(const prometheus::Registry& registry);

// A 200 answer with the text format's content type.
http::Response metrics_response(const prometheus::Registry& registry);

}  // namespace lifeline
