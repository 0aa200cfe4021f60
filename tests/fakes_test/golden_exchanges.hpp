#pragma once
// The golden HTTP exchanges recorded against real Prefect servers
// (tests/fakes/prefect-reference/golden/<version>/NN-name.json), in recording order.
// Thread-safety: plain values.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/fakes/json.hpp"

namespace lifeline::fake_prefect::testing {

struct GoldenExchange {
  int number = 0;
  std::string file;  // "62-c-t2-set-state-running-blocked.json"
  std::string method;
  std::string path;  // "/api/..." with the query string
  Json request_body;
  int status = 0;
  Json response_body;
  std::map<std::string, std::string> response_headers;
};

std::filesystem::path golden_dir(const std::string& version);  // e.g. "3.4.25-postgres"
// Every NN-*.json of a version, sorted by NN.
std::vector<GoldenExchange> load_golden(const std::string& version);
// A JSON file of the golden directory (ids*.json, ws-events-in.json); null if absent.
Json load_golden_json(const std::string& version, const std::string& name);

// Recorded ids and the ids the fake gave the same objects.
class IdMap {
 public:
  // Learns pairs by walking a recorded and a fake answer side by side.
  void learn(const Json& recorded, const Json& fake);
  // Replaces every known recorded id inside `text` (also inside longer strings).
  std::string apply(std::string text) const;
  Json apply(const Json& j) const;
  std::size_t size() const { return ids_.size(); }

 private:
  std::map<std::string, std::string> ids_;
};

}  // namespace lifeline::fake_prefect::testing
