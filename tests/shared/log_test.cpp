#include "shared/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

using namespace lifeline;

namespace {
std::string capture(const std::function<void(const Logger&)>& f) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  FakeClock clock;
  Logger log(clock, "test", LogLevel::info, fds[1]);
  f(log);
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  return out;
}
}  // namespace

TEST(Log, WritesOneLogfmtLinePerEvent) {
  auto out = capture([](const Logger& log) {
    log.with({{"run_id", "abc"}}).warn("heartbeat failed", {{"error", "connection refused"}, {"attempt", 2}});
    log.debug("hidden");
  });
  EXPECT_NE(out.find("level=warn component=test msg=\"heartbeat failed\" run_id=abc error=\"connection refused\" attempt=2\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_EQ(out.rfind("ts=", 0), 0u);
}

TEST(Log, EscapesQuotesAndNewlines) {
  std::string line;
  append_logfmt(line, "k", "a \"b\"\nc");
  EXPECT_EQ(line, " k=\"a \\\"b\\\"\\nc\"");
}
