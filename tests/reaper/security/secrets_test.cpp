// No secret in what the programs print: the bearer token and the database password never
// appear in the reaper's logs (startup, effective configuration, reload, errors, drain) or
// its /metrics, nor in the sidecar's logs, at debug level, whether requests succeed or fail.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include "shared/uuid.hpp"
#include "tests/reaper/security/reaper_process.hpp"
#include "tests/support/postgres_fixture.hpp"

namespace lifeline::reaper::testing {
namespace {

using lifeline::testing::Subprocess;
using lifeline::testing::TempPostgres;

constexpr const char* kToken = "tok-5ecret-4f9e2a71";
constexpr const char* kPassword = "pw-5ecret-77ab31c0";

// The test PostgreSQL trusts local connections, so any password is accepted and ignored.
std::string url_with_password(const std::string& uri) {
  auto at = uri.find('@');
  return uri.substr(0, at) + ":" + kPassword + uri.substr(at);
}

void expect_no_secret(const std::string& text, const std::string& where) {
  EXPECT_EQ(text.find(kToken), std::string::npos) << "the token appears in " << where << ":\n" << text;
  EXPECT_EQ(text.find(kPassword), std::string::npos) << "the password appears in " << where << ":\n" << text;
}

TEST(Secrets, NeverInTheReapersOutputOrMetricsNorInTheSidecars) {
  TempDir dir;
  auto token_file = dir.write("token", std::string(kToken) + "\n");
  auto url = url_with_password(TempPostgres::shared().create_database());
  std::string server = "token_file = \"" + token_file + "\"\n";

  // check-config prints the effective configuration.
  auto cfg = dir.write("check.toml", "[server]\n" + server + "[database]\nurl = \"" + url + "\"\n");
  Subprocess check({{lifeline::testing::bin_path("lifeline-reaper"), "check-config", cfg}, {}, {}, true, "secrets-check"});
  ASSERT_EQ(check.wait_exit(20s), 0) << check.stderr_text();
  expect_no_secret(check.stdout_text() + check.stderr_text(), "check-config");

  ReaperProcess reaper(dir, server, "", "secrets-reaper", url, {"--log-level", "debug"});
  ASSERT_NE(reaper.port(), 0);
  httplib::Client c("127.0.0.1", reaper.port());
  std::string run_id = uuid_v4();
  std::string body = R"({"holder":"pod-s","ttl_seconds":30,"seq":1})";
  auto wrong = c.Put(("/v1/leases/" + run_id).c_str(), {{"Authorization", "Bearer not-the-token"}}, body,
                     "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  expect_no_secret(wrong->body, "a 401 answer");
  auto good = c.Put(("/v1/leases/" + run_id).c_str(), {{"Authorization", std::string("Bearer ") + kToken}}, body,
                    "application/json");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;

  // A sidecar with the right token, and one with a wrong one (its heartbeats get 401).
  auto sidecar = [&](const std::string& token, const std::string& name, const std::string& seconds) {
    auto file = dir.write(name + ".token", token + "\n");
    return std::make_unique<Subprocess>(Subprocess::Options{
        {lifeline::testing::bin_path("lifeline-sidecar"), "exec", "--run-id", uuid_v4(), "--reaper-url",
         "http://127.0.0.1:" + std::to_string(reaper.port()), "--token-file", file, "--holder", name, "--interval",
         "200ms", "--ttl", "5s", "--kill-grace", "1s", "--listen", "127.0.0.1:0", "--log-level", "debug", "--",
         "/bin/sh", "-c", "sleep " + seconds},
        {},
        {},
        true,
        "secrets-" + name});
  };
  auto right = sidecar(kToken, "pod-right", "1");
  auto refused = sidecar(std::string(kToken) + "-but-wrong", "pod-wrong", "30");
  EXPECT_EQ(right->wait_exit(20s), 0) << right->stderr_text();
  EXPECT_NE(refused->wait_exit(20s), 0);
  expect_no_secret(right->stdout_text() + right->stderr_text(), "the sidecar's log");
  expect_no_secret(refused->stdout_text() + refused->stderr_text(), "a refused sidecar's log");

  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  expect_no_secret(metrics->body, "/metrics");

  // A reload (the token is re-read) and a drain.
  reaper.process().signal(SIGHUP);
  ASSERT_TRUE(reaper.process().wait_for_output(std::regex("configuration reloaded"), 10s, true));
  reaper.process().signal(SIGTERM);
  EXPECT_EQ(reaper.process().wait_exit(20s), 0);
  expect_no_secret(reaper.process().stdout_text() + reaper.process().stderr_text(), "the reaper's log");

  // An error path: a database that refuses connections, its URL carrying the password.
  auto bad_url = "postgresql://postgres:" + std::string(kPassword) + "@127.0.0.1:" +
                 std::to_string(lifeline::testing::free_port()) + "/nowhere";
  auto bad = dir.write("bad.toml", "[server]\n" + server + "[database]\nurl = \"" + bad_url + "\"\n");
  Subprocess migrate({{lifeline::testing::bin_path("lifeline-reaper"), "migrate", "--config", bad},
                      {}, {}, true, "secrets-migrate"});
  EXPECT_EQ(migrate.wait_exit(20s), 1) << migrate.stderr_text();
  expect_no_secret(migrate.stdout_text() + migrate.stderr_text(), "a failed migration's log");
}

}  // namespace
}  // namespace lifeline::reaper::testing
