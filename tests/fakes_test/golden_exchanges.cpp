#include "tests/fakes_test/golden_exchanges.hpp"

#include <algorithm>
#include <fstream>

#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect::testing {

std::filesystem::path golden_dir(const std::string& version) {
  return std::filesystem::path(LIFELINE_PREFECT_REFERENCE_DIR) / "golden" / version;
}

namespace {

Json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return Json();
  return Json::parse(in, nullptr, /*allow_exceptions=*/false);
}

}  // namespace

Json load_golden_json(const std::string& version, const std::string& name) {
  Json j = read_json(golden_dir(version) / name);
  return j.is_discarded() ? Json() : j;
}

std::vector<GoldenExchange> load_golden(const std::string& version) {
  std::vector<GoldenExchange> out;
  for (const auto& entry : std::filesystem::directory_iterator(golden_dir(version))) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0])) || entry.path().extension() != ".json") continue;
    Json j = read_json(entry.path());
    if (j.is_discarded() || !j.contains("method")) continue;
    GoldenExchange ex;
    ex.number = std::stoi(name);
    ex.file = name;
    ex.method = j.value("method", "");
    ex.path = j.value("path", "");
    ex.request_body = j.value("request_body", Json());
    ex.status = j.value("status", 0);
    ex.response_body = j.value("response_body", Json());
    for (auto it = j["response_headers"].begin(); it != j["response_headers"].end(); ++it) {
      ex.response_headers[it.key()] = it.value().get<std::string>();
    }
    out.push_back(std::move(ex));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
  return out;
}

void IdMap::learn(const Json& recorded, const Json& fake) {
  if (recorded.is_string() && fake.is_string()) {
    auto r = recorded.get<std::string>();
    auto f = fake.get<std::string>();
    if (is_uuid(r) && is_uuid(f) && r != f) ids_.try_emplace(r, f);
    return;
  }
  if (recorded.is_object() && fake.is_object()) {
    for (auto it = recorded.begin(); it != recorded.end(); ++it) {
      auto other = fake.find(it.key());
      if (other != fake.end()) learn(it.value(), *other);
    }
    return;
  }
  if (recorded.is_array() && fake.is_array() && recorded.size() == fake.size()) {
    for (std::size_t i = 0; i < recorded.size(); ++i) learn(recorded[i], fake[i]);
  }
}

std::string IdMap::apply(std::string text) const {
  for (const auto& [from, to] : ids_) {
    for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
      text.replace(pos, from.size(), to);
    }
  }
  return text;
}

Json IdMap::apply(const Json& j) const {
  if (j.is_string()) return Json(apply(j.get<std::string>()));
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& v : j) out.push_back(apply(v));
    return out;
  }
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[apply(it.key())] = apply(it.value());
    return out;
  }
  return j;
}

}  // namespace lifeline::fake_prefect::testing
