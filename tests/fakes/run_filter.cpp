#include "tests/fakes/run_filter.hpp"

#include <unordered_map>
#include <unordered_set>
#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "tests/fakes/uuid_text.hpp"

namespace lifeline::fake_prefect {

namespace {

constexpr std::size_t kMaxLimit = 200;  // PREFECT_API_DEFAULT_LIMIT

// The value of one filterable field of a run.
struct Field {
  std::optional<std::string> text;   // strings and ids
  std::vector<std::string> list;     // tags
  std::optional<WallTime> time;
  bool is_list = false;
  bool is_time = false;
  std::optional<bool> flag;          // subflow_runs.exists_
};

Field text_field(const std::optional<std::string>& s) {
  Field f;
  f.text = s;
  return f;
}
Field time_field(const std::optional<WallTime>& t) {
  Field f;
  f.is_time = true;
  f.time = t;
  return f;
}
Field list_field(const Json& tags) {
  Field f;
  f.is_list = true;
  for (const auto& t : tags) {
    if (t.is_string()) f.list.push_back(t.get<std::string>());
  }
  return f;
}

std::string normalised(const std::string& s) { return canonical_uuid(s).value_or(s); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The normalised strings of an any_/not_any_ list, computed once per list and request:
// a filter of 200 ids over 10,000 runs must not canonicalise 2 million pairs.
class ListSets {
 public:
  bool contains(const Json& list, const std::string& v) {
    auto [it, fresh] = sets_.try_emplace(&list);
    if (fresh)
      for (const auto& x : list)
        if (x.is_string()) it->second.insert(normalised(x.get<std::string>()));
    return it->second.count(normalised(v)) > 0;
  }

 private:
  std::unordered_map<const Json*, std::unordered_set<std::string>> sets_;
};

// Combines the criteria present in a filter object with its "operator" (and_ by default).
class Combiner {
 public:
  explicit Combiner(const Json& obj) : or_(obj.is_object() && obj.value("operator", "and_") == "or_") {}
  void add(bool v) {
    any_ = any_ || v;
    all_ = all_ && v;
    seen_ = true;
  }
  bool result() const { return !seen_ || (or_ ? any_ : all_); }

 private:
  bool or_;
  bool any_ = false;
  bool all_ = true;
  bool seen_ = false;
};

// Evaluates filter objects, remembering the first unsupported criterion.
class Evaluator {
 public:
  explicit Evaluator(const Store& store) : store_(store) {}
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  std::optional<ApiError> error;

  // A leaf criterion object such as {"any_": [...], "is_null_": false}.
  bool leaf(const Json& crit, const Field& f, const std::string& where) {
    if (!crit.is_object()) return true;
    Combiner c(crit);
    for (auto it = crit.begin(); it != crit.end(); ++it) {
      const std::string& op = it.key();
      const Json& arg = it.value();
      if (op == "operator" || arg.is_null()) continue;
      if (op == "any_") {
        if (f.is_list) c.add(std::any_of(f.list.begin(), f.list.end(), [&](auto& t) { return lists_.contains(arg, t); }));
        else c.add(f.text && lists_.contains(arg, *f.text));
      } else if (op == "not_any_") {
        c.add(f.text && !lists_.contains(arg, *f.text));
      } else if (op == "all_") {
        c.add(std::all_of(arg.begin(), arg.end(), [&](const Json& t) {
          return std::find(f.list.begin(), f.list.end(), t.get<std::string>()) != f.list.end();
        }));
      } else if (op == "like_") {
        c.add(f.text && lower(*f.text).find(lower(arg.get<std::string>())) != std::string::npos);
      } else if (op == "startswith_") {
        c.add(f.text && std::any_of(arg.begin(), arg.end(), [&](const Json& p) {
          return f.text->rfind(p.get<std::string>(), 0) == 0;
        }));
      } else if (op == "is_null_") {
        bool is_null = f.is_list ? f.list.empty() : f.is_time ? !f.time.has_value() : !f.text.has_value();
        c.add(is_null == arg.get<bool>());
      } else if (op == "before_" || op == "after_") {
        auto bound = parse_time(arg.get<std::string>());
        if (!bound || !f.time) c.add(false);
        else c.add(op == "before_" ? *f.time <= *bound : *f.time >= *bound);
      } else if (op == "exists_") {
        c.add(f.flag.value_or(false) == arg.get<bool>());
      } else {
        unsupported(where + "." + op);
      }
    }
    return c.result();
  }

  using Handlers = std::map<std::string, std::function<bool(const Json&)>>;

  // A filter object whose keys are handled by `handlers` (each given its criterion).
  bool object(const Json& obj, const Handlers& handlers, const std::string& where) {
    if (!obj.is_object()) return true;
    Combiner c(obj);
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (it.key() == "operator" || it.value().is_null()) continue;
      auto h = handlers.find(it.key());
      if (h == handlers.end()) {
        unsupported(where + "." + it.key());
        continue;
      }
      c.add(h->second(it.value()));
    }
    return c.result();
  }

  bool state(const Json& crit, const State* s, const std::string& where) {
    return object(crit,
                  {{"type", [&](const Json& j) { return leaf(j, text_field(s ? std::optional<std::string>(std::string(to_string(s->type))) : std::nullopt), where + ".type"); }},
                   {"name", [&](const Json& j) { return leaf(j, text_field(s ? std::optional<std::string>(s->name) : std::nullopt), where + ".name"); }}},
                  where);
  }

  bool flow_run(const Json& f, const FlowRun& r) {
    const std::string w = "flow_runs";
    std::optional<std::string> parent_flow_run;
    if (r.parent_task_run_id) {
      if (const TaskRun* t = store_.task_run(*r.parent_task_run_id)) parent_flow_run = t->flow_run_id;
    }
    return object(f,
                  {{"id", [&](const Json& j) { return leaf(j, text_field(r.id), w + ".id"); }},
                   {"name", [&](const Json& j) { return leaf(j, text_field(r.name), w + ".name"); }},
                   {"tags", [&](const Json& j) { return leaf(j, list_field(r.tags), w + ".tags"); }},
                   {"deployment_id", [&](const Json& j) { return leaf(j, text_field(r.deployment_id), w + ".deployment_id"); }},
                   {"work_queue_name", [&](const Json& j) { return leaf(j, text_field(r.work_queue_name), w + ".work_queue_name"); }},
                   {"state", [&](const Json& j) { return state(j, r.current(), w + ".state"); }},
                   {"flow_version", [&](const Json& j) { return leaf(j, text_field(r.flow_version), w + ".flow_version"); }},
                   {"start_time", [&](const Json& j) { return leaf(j, time_field(r.start_time), w + ".start_time"); }},
                   {"end_time", [&](const Json& j) { return leaf(j, time_field(r.end_time), w + ".end_time"); }},
                   {"expected_start_time", [&](const Json& j) { return leaf(j, time_field(r.expected_start_time), w + ".expected_start_time"); }},
                   {"next_scheduled_start_time", [&](const Json& j) { return leaf(j, time_field(r.next_scheduled_start_time), w + ".next_scheduled_start_time"); }},
                   {"parent_flow_run_id", [&](const Json& j) { return leaf(j, text_field(parent_flow_run), w + ".parent_flow_run_id"); }},
                   {"parent_task_run_id", [&](const Json& j) { return leaf(j, text_field(r.parent_task_run_id), w + ".parent_task_run_id"); }},
                   {"idempotency_key", [&](const Json& j) { return leaf(j, text_field(r.idempotency_key), w + ".idempotency_key"); }}},
                  w);
  }

  bool task_run(const Json& f, const TaskRun& t) {
    const std::string w = "task_runs";
    bool is_subflow = false;
    if (t.current()) is_subflow = !t.current()->details.value("child_flow_run_id", Json()).is_null();
    Field subflow;
    subflow.flag = is_subflow;
    return object(f,
                  {{"id", [&](const Json& j) { return leaf(j, text_field(t.id), w + ".id"); }},
                   {"name", [&](const Json& j) { return leaf(j, text_field(t.name), w + ".name"); }},
                   {"tags", [&](const Json& j) { return leaf(j, list_field(t.tags), w + ".tags"); }},
                   {"state", [&](const Json& j) { return state(j, t.current(), w + ".state"); }},
                   {"start_time", [&](const Json& j) { return leaf(j, time_field(t.start_time), w + ".start_time"); }},
                   {"end_time", [&](const Json& j) { return leaf(j, time_field(t.end_time), w + ".end_time"); }},
                   {"expected_start_time", [&](const Json& j) { return leaf(j, time_field(t.expected_start_time), w + ".expected_start_time"); }},
                   {"subflow_runs", [&](const Json& j) { return leaf(j, subflow, w + ".subflow_runs"); }},
                   {"flow_run_id", [&](const Json& j) { return leaf(j, text_field(t.flow_run_id), w + ".flow_run_id"); }}},
                  w);
  }

  bool flow(const Json& f, const std::string& flow_id) {
    const Flow* fl = store_.flow(flow_id);
    const std::string w = "flows";
    return object(f,
                  {{"id", [&](const Json& j) { return leaf(j, text_field(flow_id), w + ".id"); }},
                   {"name", [&](const Json& j) { return leaf(j, text_field(fl ? std::optional(fl->name) : std::nullopt), w + ".name"); }},
                   {"tags", [&](const Json& j) { return leaf(j, list_field(fl ? fl->tags : Json::array()), w + ".tags"); }}},
                  w);
  }

  bool deployment(const Json& f, const std::optional<std::string>& dep_id) {
    const Deployment* d = dep_id ? store_.deployment(*dep_id) : nullptr;
    if (!d) return !f.is_object() || f.empty();
    const std::string w = "deployments";
    return object(f,
                  {{"id", [&](const Json& j) { return leaf(j, text_field(d->id), w + ".id"); }},
                   {"name", [&](const Json& j) { return leaf(j, text_field(d->name), w + ".name"); }},
                   {"work_queue_name", [&](const Json& j) { return leaf(j, text_field(d->work_queue_name), w + ".work_queue_name"); }}},
                  w);
  }

  bool work_pool(const Json& f, const FlowRun& r) {
    const std::string w = "work_pools";
    return object(f,
                  {{"id", [&](const Json& j) { return leaf(j, text_field(r.work_pool_id), w + ".id"); }},
                   {"name", [&](const Json& j) { return leaf(j, text_field(r.work_pool_name), w + ".name"); }}},
                  w);
  }

  bool work_queue(const Json& f, const FlowRun& r) {
    const std::string w = "work_pool_queues";
    return object(f,
                  {{"id", [&](const Json& j) { return leaf(j, text_field(r.work_queue_id), w + ".id"); }},
                   {"name", [&](const Json& j) { return leaf(j, text_field(r.work_queue_name), w + ".name"); }}},
                  w);
  }

  void unsupported(const std::string& what) {
    if (!error) error = api_error(501, "fake-prefect does not implement the filter " + what);
  }

 private:
  ListSets lists_;
  const Store& store_;
};

const Json& part(const Json& body, const char* key) {
  static const Json kNull;
  if (!body.is_object()) return kNull;
  auto it = body.find(key);
  return it == body.end() ? kNull : *it;
}

std::optional<WallTime> coalesce(const std::optional<WallTime>& a, const std::optional<WallTime>& b) {
  return a ? a : b;
}

// Postgres order: NULLs last when ascending, first when descending.
template <typename T>
int compare_optional(const std::optional<T>& a, const std::optional<T>& b) {
  if (!a && !b) return 0;
  if (!a) return 1;
  if (!b) return -1;
  return *a < *b ? -1 : (*b < *a ? 1 : 0);
}

template <typename Run>
void sort_runs(std::vector<const Run*>& runs, const std::string& sort) {
  std::stable_sort(runs.begin(), runs.end(), [&](const Run* a, const Run* b) {
    int c = 0;
    bool desc = false;
    if (sort == "START_TIME_ASC" || sort == "START_TIME_DESC") {
      c = compare_optional(coalesce(a->start_time, a->expected_start_time), coalesce(b->start_time, b->expected_start_time));
      desc = sort == "START_TIME_DESC";
    } else if (sort == "EXPECTED_START_TIME_ASC" || sort == "EXPECTED_START_TIME_DESC") {
      c = compare_optional(a->expected_start_time, b->expected_start_time);
      desc = sort == "EXPECTED_START_TIME_DESC";
    } else if (sort == "NAME_ASC" || sort == "NAME_DESC") {
      c = a->name < b->name ? -1 : (b->name < a->name ? 1 : 0);
      desc = sort == "NAME_DESC";
    } else if (sort == "NEXT_SCHEDULED_START_TIME_ASC") {
      c = compare_optional(a->next_scheduled_start_time, b->next_scheduled_start_time);
    } else if (sort == "END_TIME_DESC") {
      c = compare_optional(a->end_time, b->end_time);
      desc = true;
    }
    if (desc) c = -c;
    if (c != 0) return c < 0;
    return a->id > b->id;  // ID_DESC, and the tie-break of every other order
  });
}

// True when a filter object combines its criteria with or_ (and_ is the default, as in
// Combiner).
bool is_or(const Json& obj) {
  if (!obj.is_object()) return false;
  auto it = obj.find("operator");
  return it != obj.end() && it->is_string() && it->get<std::string>() == "or_";
}

// The any_ list a filter pins `field` to, when every run it selects must have its field in
// that list (the filter and the field's criterion both combine with and_); null otherwise.
const Json* pinned_list(const Json& filter, const char* field) {
  if (!filter.is_object() || is_or(filter)) return nullptr;
  const Json& crit = part(filter, field);
  if (!crit.is_object() || is_or(crit)) return nullptr;
  const Json& any = part(crit, "any_");
  return any.is_array() ? &any : nullptr;
}

// The distinct values of a pinned list in the store's key form (canonical UUIDs), in order.
std::vector<std::string> pinned_keys(const Json& list) {
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& x : list) {
    if (!x.is_string()) continue;
    std::string key = normalised(x.get<std::string>());
    if (seen.insert(key).second) out.push_back(std::move(key));
  }
  return out;
}

// The runs a flow_runs filter can select, found through the store's indexes when it pins
// the id or the parent flow run to a list, so that a filter over 10,000 runs does not scan
// them all under the fake's mutex. Every candidate is still evaluated against the whole
// filter, so the answer is the same as a full scan's. nullopt: no index applies, scan.
std::optional<std::vector<const FlowRun*>> flow_run_candidates(const Store& store, const Json& runs_f) {
  std::vector<const FlowRun*> out;
  if (const Json* ids = pinned_list(runs_f, "id")) {
    for (const auto& id : pinned_keys(*ids))
      if (const FlowRun* r = store.flow_run(id)) out.push_back(r);
    return out;
  }
  if (const Json* parents = pinned_list(runs_f, "parent_flow_run_id")) {
    // Distinct parents have distinct task runs, and a flow run has one parent task run:
    // no run appears twice.
    for (const auto& parent : pinned_keys(*parents))
      for (const TaskRun* t : store.task_runs_of(parent))
        for (const FlowRun* r : store.flow_runs_of_task(t->id)) out.push_back(r);
    return out;
  }
  return std::nullopt;
}

std::optional<std::vector<const TaskRun*>> task_run_candidates(const Store& store, const Json& tasks_f) {
  std::vector<const TaskRun*> out;
  if (const Json* ids = pinned_list(tasks_f, "id")) {
    for (const auto& id : pinned_keys(*ids))
      if (const TaskRun* t = store.task_run(id)) out.push_back(t);
    return out;
  }
  if (const Json* runs = pinned_list(tasks_f, "flow_run_id")) {
    for (const auto& run : pinned_keys(*runs))
      for (const TaskRun* t : store.task_runs_of(run)) out.push_back(t);
    return out;
  }
  return std::nullopt;
}

}  // namespace

Outcome<std::vector<const FlowRun*>> select_flow_runs(const Store& store, const Json& body) {
  Evaluator ev(store);
  std::vector<const FlowRun*> out;
  const Json& runs_f = part(body, "flow_runs");
  const Json& flows_f = part(body, "flows");
  const Json& deps_f = part(body, "deployments");
  const Json& pools_f = part(body, "work_pools");
  const Json& queues_f = part(body, "work_pool_queues");
  const Json& tasks_f = part(body, "task_runs");
  std::vector<const FlowRun*> candidates;
  if (auto indexed = flow_run_candidates(store, runs_f)) {
    candidates = std::move(*indexed);
    // A full scan reports an unsupported criterion of flow_runs at the first run, even
    // when nothing matches: so must an empty candidate list.
    if (candidates.empty() && !store.flow_runs().empty()) {
      (void)ev.flow_run(runs_f, store.flow_runs().begin()->second);
      if (ev.error) return *ev.error;
    }
  } else {
    candidates.reserve(store.flow_runs().size());
    for (const auto& [id, run] : store.flow_runs()) candidates.push_back(&run);
  }
  for (const FlowRun* run : candidates) {
    bool ok = ev.flow_run(runs_f, *run);
    if (ok && !flows_f.is_null()) ok = ev.flow(flows_f, run->flow_id);
    if (ok && !deps_f.is_null()) ok = ev.deployment(deps_f, run->deployment_id);
    if (ok && !pools_f.is_null()) ok = ev.work_pool(pools_f, *run);
    if (ok && !queues_f.is_null()) ok = ev.work_queue(queues_f, *run);
    if (ok && !tasks_f.is_null()) {
      auto tasks = store.task_runs_of(run->id);
      ok = std::any_of(tasks.begin(), tasks.end(), [&](const TaskRun* t) { return ev.task_run(tasks_f, *t); });
    }
    if (ev.error) return *ev.error;
    if (ok) out.push_back(run);
  }
  return out;
}

Outcome<std::vector<const TaskRun*>> select_task_runs(const Store& store, const Json& body) {
  Evaluator ev(store);
  std::vector<const TaskRun*> out;
  const Json& tasks_f = part(body, "task_runs");
  const Json& runs_f = part(body, "flow_runs");
  const Json& flows_f = part(body, "flows");
  const Json& deps_f = part(body, "deployments");
  std::vector<const TaskRun*> candidates;
  if (auto indexed = task_run_candidates(store, tasks_f)) {
    candidates = std::move(*indexed);
    if (candidates.empty() && !store.task_runs().empty()) {  // as in select_flow_runs
      (void)ev.task_run(tasks_f, store.task_runs().begin()->second);
      if (ev.error) return *ev.error;
    }
  } else {
    candidates.reserve(store.task_runs().size());
    for (const auto& [id, t] : store.task_runs()) candidates.push_back(&t);
  }
  for (const TaskRun* t : candidates) {
    bool ok = ev.task_run(tasks_f, *t);
    const FlowRun* fr = t->flow_run_id ? store.flow_run(*t->flow_run_id) : nullptr;
    if (ok && !runs_f.is_null()) ok = fr && ev.flow_run(runs_f, *fr);
    if (ok && !flows_f.is_null()) ok = fr && ev.flow(flows_f, fr->flow_id);
    if (ok && !deps_f.is_null()) ok = fr && ev.deployment(deps_f, fr->deployment_id);
    if (ev.error) return *ev.error;
    if (ok) out.push_back(t);
  }
  return out;
}

void sort_flow_runs(std::vector<const FlowRun*>& runs, const std::string& sort) { sort_runs(runs, sort); }
void sort_task_runs(std::vector<const TaskRun*>& runs, const std::string& sort) { sort_runs(runs, sort); }

Outcome<Page> page_of(const Json& body) {
  Page p;
  const Json& limit = part(body, "limit");
  if (limit.is_number()) {
    auto v = static_cast<long long>(limit.get<double>());
    if (v < 0) return api_error(422, "Invalid limit: must be greater than or equal to 0.");
    if (static_cast<std::size_t>(v) > kMaxLimit) {
      return api_error(422, "Invalid limit: must be less than or equal to " + std::to_string(kMaxLimit) + ".");
    }
    p.limit = static_cast<std::size_t>(v);
  }
  const Json& offset = part(body, "offset");
  if (offset.is_number()) p.offset = static_cast<std::size_t>(std::max(0.0, offset.get<double>()));
  return p;
}

}  // namespace lifeline::fake_prefect
