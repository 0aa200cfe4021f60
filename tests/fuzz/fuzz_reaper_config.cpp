// Fuzzes the reaper's configuration loader with arbitrary TOML text: every input must
// give a Config or a non-empty list of errors, each naming the source with a line and
// a column (an operator fixes a file in one pass), never a crash or an exception.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "reaper/config_loader.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "fuzz_reaper_config: %s: %s\n--- input ---\n%.*s\n", what, detail.c_str(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The source name has no directory, so a relative secret path names a file in the
  // working directory (run.sh runs the targets in an empty one).
  auto load = lifeline::reaper::load_config_text(text, "fuzz.toml");
  for (const auto& e : load.errors) {
    if (e.line == 0 || e.column == 0) fail("error without a position", text, e.to_string());
    if (e.message.empty()) fail("error without a message", text, e.to_string());
    if (e.file != "fuzz.toml") fail("error naming another source", text, e.to_string());
  }
  if (load.ok()) {
    const auto& c = load.config;
    if (c.leases.min_ttl.count() <= 0 || c.leases.min_ttl > c.leases.max_ttl)
      fail("accepted TTL bounds that are empty", text, std::to_string(c.leases.min_ttl.count()));
  }
  return 0;
}
