#include "tests/fakes/route_table.hpp"

namespace lifeline::fake_prefect {

namespace {

// "/a/{x}/" -> {"a", "{x}", ""}: a trailing slash is significant, as in FastAPI.
std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (true) {
    std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

bool is_param(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

// Number of literal segments when `route` matches `path`, -1 otherwise.
int specificity(const std::vector<std::string>& route, const std::vector<std::string>& path,
                std::map<std::string, std::string>* params) {
  if (route.size() != path.size()) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < route.size(); ++i) {
    if (is_param(route[i])) {
      if (path[i].empty()) return -1;
      if (params) (*params)[route[i].substr(1, route[i].size() - 2)] = path[i];
    } else if (route[i] == path[i]) {
      ++literals;
    } else {
      return -1;
    }
  }
  return literals;
}

}  // namespace

void RouteTable::add(std::string method, std::string path_template, RouteHandler handler) {
  Route r;
  r.segments = split(path_template);
  r.method = std::move(method);
  r.path_template = std::move(path_template);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

std::variant<RouteTable::Match, RouteTable::Miss> RouteTable::match(const std::string& method,
                                                                    const std::string& path) const {
  auto segments = split(path);
  const Route* best = nullptr;
  int best_score = -1;
  bool other_method = false;
  for (const auto& r : routes_) {
    int score = specificity(r.segments, segments, nullptr);
    if (score < 0) continue;
    if (r.method != method) {
      other_method = true;
      continue;
    }
    if (score > best_score) {
      best = &r;
      best_score = score;
    }
  }
  if (!best) return other_method ? Miss::MethodNotAllowed : Miss::NotFound;
  Match m;
  m.route = best;
  specificity(best->segments, segments, &m.params);
  return m;
}

}  // namespace lifeline::fake_prefect
