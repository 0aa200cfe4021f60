#pragma once
// Prefect's filter bodies (/flow_runs/filter, /flow_runs/count, /task_runs/filter,
// /task_runs/count) evaluated over the store, with sort, limit and offset.
// A filter field the fake does not implement is an error (HTTP 501), never silently ignored:
// a test should not pass because a filter was dropped.
// Thread-safety: reads the store; the caller serialises access.

#include <string>
#include <vector>

#include "tests/fakes/api_error.hpp"
#include "tests/fakes/store.hpp"

namespace lifeline::fake_prefect {

// The runs a body selects, unsorted.
Outcome<std::vector<const FlowRun*>> select_flow_runs(const Store& store, const Json& body);
Outcome<std::vector<const TaskRun*>> select_task_runs(const Store& store, const Json& body);

// Sorts by FlowRunSort / TaskRunSort (the body's "sort", default ID_DESC).
void sort_flow_runs(std::vector<const FlowRun*>& runs, const std::string& sort);
void sort_task_runs(std::vector<const TaskRun*>& runs, const std::string& sort);

struct Page {
  std::size_t offset = 0;
  std::size_t limit = 200;
};
// The body's offset and limit; 422 like Prefect when the limit exceeds 200.
Outcome<Page> page_of(const Json& body);

template <typename T>
std::vector<T> apply_page(const std::vector<T>& all, const Page& page) {
  std::vector<T> out;
  for (std::size_t i = page.offset; i < all.size() && out.size() < page.limit; ++i) out.push_back(all[i]);
  return out;
}

}  // namespace lifeline::fake_prefect
