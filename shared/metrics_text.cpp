#include "shared/metrics_text.hpp"

#include <prometheus/text_serializer.h>

namespace lifeline {

std::string serialize_metrics(const prometheus::Registry& registry) {
  return prometheus::TextSerializer{}.Serialize(registry.Collect());
}

http::Response metrics_response(const prometheus::Registry& registry) {
  http::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = serialize_metrics(registry);
  return r;
}

}  // namespace lifeline
