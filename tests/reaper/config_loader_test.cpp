#include "reaper/config_loader.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace lifeline::reaper {
namespace {

using namespace std::chrono_literals;

// A scratch directory for secret files, removed afterwards.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/reaper-config-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<std::string> messages(const ConfigLoad& l) {
  std::vector<std::string> out;
  for (const auto& e : l.errors) out.push_back(e.to_string());
  return out;
}

bool has_error(const ConfigLoad& l, const std::string& needle) {
  for (const auto& e : l.errors)
    if (e.to_string().find(needle) != std::string::npos) return true;
  return false;
}

TEST(ConfigLoader, EmptyFileGivesDefaults) {
  auto l = load_config_text("", "empty.toml");
  ASSERT_TRUE(l.ok()) << ::testing::PrintToString(messages(l));
  EXPECT_EQ(l.config.server.listen.port, 8080);
  EXPECT_EQ(l.config.leases.min_ttl, 5s);
  EXPECT_EQ(l.config.leases.max_ttl, 10min);
  EXPECT_EQ(l.config.retry.max_attempts, 3);
  EXPECT_EQ(l.config.database.flush_window, 2ms);
  EXPECT_EQ(l.config.server.api_threads, 2u);
  EXPECT_TRUE(l.config.policies.empty());
}

TEST(ConfigLoader, ApiThreadsMustBeBetweenOneAndSixtyFour) {
  for (const char* bad : {"0", "65", "-1"}) {
    auto l = load_config_text(std::string("[server]\napi_threads = ") + bad + "\n", "t.toml");
    EXPECT_TRUE(has_error(l, "t.toml:2:15: server.api_threads must be between 1")) << ::testing::PrintToString(messages(l));
  }
  auto ok = load_config_text("[server]\napi_threads = 64\n", "t.toml");
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(messages(ok));
  EXPECT_EQ(ok.config.server.api_threads, 64u);
}

TEST(ConfigLoader, RetentionIsZeroOrLongerThanEveryUseOfALease) {
  auto def = load_config_text("", "t.toml");
  EXPECT_EQ(def.config.reaper.retention, std::chrono::hours(24 * 7));
  auto off = load_config_text("[reaper]\nretention = \"0s\"\n", "t.toml");
  ASSERT_TRUE(off.ok()) << ::testing::PrintToString(messages(off));
  EXPECT_EQ(off.config.reaper.retention, 0s);
  auto shorter = load_config_text("[reaper]\nretention = \"30m\"\n", "t.toml");
  EXPECT_TRUE(has_error(shorter, "t.toml:2:13: reaper.retention (30m0s) must be 0 (keep forever) or longer than 1h0m0s"))
      << ::testing::PrintToString(messages(shorter));
  auto below_ttl = load_config_text("[leases]\nmax_ttl = \"3h\"\n[reaper]\nretention = \"2h\"\n", "t.toml");
  EXPECT_TRUE(has_error(below_ttl, "t.toml:4:13: reaper.retention (2h0m0s) must be 0 (keep forever) or longer than 3h0m0s"))
      << ::testing::PrintToString(messages(below_ttl));
  auto ok = load_config_text("[reaper]\nretention = \"48h\"\n", "t.toml");
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(messages(ok));
  EXPECT_EQ(ok.config.reaper.retention, std::chrono::hours(48));
}

TEST(ConfigLoader, ContractExampleLoads) {
  auto l = load_config_file(std::string(LIFELINE_REAPER_TEST_DATA) + "/contract.toml");
  ASSERT_TRUE(l.ok()) << ::testing::PrintToString(messages(l));
  EXPECT_EQ(l.config.server.listen.host, "0.0.0.0");
  EXPECT_EQ(l.config.server.listen.port, 8080);
  EXPECT_EQ(l.config.leases.completion_grace, 60s);
  EXPECT_EQ(l.config.reaper.orphan_grace, 2min);
  EXPECT_DOUBLE_EQ(l.config.retry.multiplier, 2.0);
  ASSERT_EQ(l.config.policies.size(), 1u);
  EXPECT_EQ(l.config.policies[0].work_pool, "gpu");
  EXPECT_EQ(l.config.policies[0].max_attempts, 5);
  EXPECT_FALSE(l.config.policies[0].delay.has_value());
  EXPECT_EQ(l.config.policies[0].line, 35);
}

TEST(ConfigLoader, ReadsEveryKey) {
  TempDir dir;
  dir.write("token", "  tok-123\n");
  dir.write("db", "postgresql://u:p@db/lifeline\n");
  dir.write("key", "pnu_abc\n");
  auto l = load_config_text(R"(
[server]
listen = "127.0.0.1:0"
token_file = "token"
max_body_bytes = 4096
max_header_bytes = 2048
max_connections = 20000
idle_timeout = "30s"
api_threads = 3
[database]
url_file = "db"
pool_size = 2
flush_window = "5ms"
max_batch = 500
commit_timeout = "3s"
max_pending = 1000
[prefect]
api_url = "https://api.prefect.cloud/api/accounts/a/workspaces/w"
api_key_file = "key"
timeout = "2s"
max_in_flight = 8
emit_events = true
[leases]
min_ttl = "1s"
max_ttl = "1h"
completion_grace = "0s"
[reaper]
interval = "250ms"
batch_size = 50
orphan_grace = "0s"
work_pools = ["a", "b"]
dry_run = true
claim_timeout = "30s"
status_refresh = "3s"
[retry]
max_attempts = 0
delay = "1s"
max_delay = "1m"
multiplier = 1.5
jitter = 0
[[policy]]
deployment = "etl-*"
tags = ["gpu", "big"]
delay = "2s"
max_delay = "2m"
multiplier = 3
jitter = 0.5
orphan_grace = "10m"
)",
                            dir.path() + "/lifeline.toml");
  ASSERT_TRUE(l.ok()) << ::testing::PrintToString(messages(l));
  const Config& c = l.config;
  EXPECT_EQ(c.server.listen.port, 0);
  EXPECT_EQ(c.server.token, "tok-123");
  EXPECT_EQ(c.server.max_body_bytes, 4096u);
  EXPECT_EQ(c.server.max_connections, 20000u);
  EXPECT_EQ(c.server.idle_timeout, 30s);
  EXPECT_EQ(c.server.api_threads, 3u);
  EXPECT_EQ(c.database.url, "postgresql://u:p@db/lifeline");
  EXPECT_EQ(c.database.pool_size, 2u);
  EXPECT_EQ(c.database.flush_window, 5ms);
  EXPECT_EQ(c.database.max_batch, 500u);
  EXPECT_EQ(c.database.commit_timeout, 3s);
  EXPECT_EQ(c.database.max_pending, 1000u);
  EXPECT_EQ(c.prefect.api_key, "pnu_abc");
  EXPECT_EQ(c.prefect.max_in_flight, 8u);
  EXPECT_TRUE(c.prefect.emit_events);
  EXPECT_EQ(c.leases.min_ttl, 1s);
  EXPECT_EQ(c.leases.completion_grace, 0s);
  EXPECT_EQ(c.reaper.interval, 250ms);
  EXPECT_EQ(c.reaper.work_pools, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(c.reaper.dry_run);
  EXPECT_EQ(c.reaper.claim_timeout, 30s);
  EXPECT_EQ(c.reaper.status_refresh, 3s);
  EXPECT_EQ(c.retry.max_attempts, 0);
  EXPECT_DOUBLE_EQ(c.retry.jitter, 0.0);
  ASSERT_EQ(c.policies.size(), 1u);
  const Policy& p = c.policies[0];
  EXPECT_EQ(p.deployment, "etl-*");
  EXPECT_EQ(p.tags, (std::vector<std::string>{"gpu", "big"}));
  EXPECT_DOUBLE_EQ(*p.multiplier, 3.0);
  EXPECT_EQ(p.orphan_grace, 10min);
  EXPECT_FALSE(p.max_attempts.has_value());
}

TEST(ConfigLoader, CollectsEveryErrorWithPosition) {
  auto l = load_config_text(R"([server]
listen = "nowhere"
bogus = 1
[leases]
min_ttl = "20m"
max_ttl = "10m"
[prefect]
max_in_flight = 0
timeout = "5"
[retry]
jitter = 1.5
multiplier = 0.5
max_attempts = -1
[[policy]]
max_attempts = 2
[extra]
)",
                            "bad.toml");
  ASSERT_FALSE(l.ok());
  auto m = messages(l);
  EXPECT_EQ(m.size(), 10u) << ::testing::PrintToString(m);
  EXPECT_TRUE(has_error(l, "bad.toml:2:10: server.listen")) << ::testing::PrintToString(m);
  EXPECT_TRUE(has_error(l, "bad.toml:3:1: unknown key server.bogus"));
  EXPECT_TRUE(has_error(l, "bad.toml:6:11: leases.min_ttl (20m0s) must not exceed leases.max_ttl"));
  EXPECT_TRUE(has_error(l, "bad.toml:8:17: prefect.max_in_flight must be between 1"));
  EXPECT_TRUE(has_error(l, "bad.toml:9:11: prefect.timeout: invalid duration \"5\""));
  EXPECT_TRUE(has_error(l, "bad.toml:11:10: retry.jitter must be between 0 and 1"));
  EXPECT_TRUE(has_error(l, "bad.toml:12:14: retry.multiplier must be between 1"));
  EXPECT_TRUE(has_error(l, "bad.toml:13:16: retry.max_attempts must be between 0"));
  EXPECT_TRUE(has_error(l, "bad.toml:14:1: [[policy]] number 1 has no matcher"));
  EXPECT_TRUE(has_error(l, "unknown key extra"));
  // Sorted by position.
  for (std::size_t i = 1; i < l.errors.size(); ++i) EXPECT_LE(l.errors[i - 1].line, l.errors[i].line);
}

TEST(ConfigLoader, WrongTypesAreErrors) {
  auto l = load_config_text(R"([reaper]
interval = 5
dry_run = "yes"
work_pools = ["a", 3]
batch_size = "500"
[server]
listen = 8080
)",
                            "t.toml");
  auto m = messages(l);
  EXPECT_TRUE(has_error(l, "t.toml:2:12: reaper.interval must be a duration string")) << ::testing::PrintToString(m);
  EXPECT_TRUE(has_error(l, "t.toml:3:11: reaper.dry_run must be true or false"));
  EXPECT_TRUE(has_error(l, "t.toml:4:20: reaper.work_pools must hold only strings"));
  EXPECT_TRUE(has_error(l, "t.toml:5:14: reaper.batch_size must be an integer"));
  EXPECT_TRUE(has_error(l, "t.toml:7:10: server.listen must be a string"));
}

TEST(ConfigLoader, BadDurationsNameTheSetting) {
  for (const char* v : {"\"-5s\"", "\"5\"", "\"5 parsecs\"", "\"\""}) {
    auto l = load_config_text(std::string("[leases]\ncompletion_grace = ") + v + "\n", "d.toml");
    ASSERT_EQ(l.errors.size(), 1u) << v;
    EXPECT_NE(l.errors[0].to_string().find("d.toml:2:20: leases.completion_grace"), std::string::npos)
        << l.errors[0].to_string();
  }
}

TEST(ConfigLoader, ZeroTtlAndIntervalAreImpossible) {
  auto l = load_config_text("[leases]\nmin_ttl = \"0s\"\n[reaper]\ninterval = \"0s\"\n", "z.toml");
  EXPECT_TRUE(has_error(l, "leases.min_ttl must be at least 1ms"));
  EXPECT_TRUE(has_error(l, "reaper.interval must be at least 1ms"));
}

TEST(ConfigLoader, DelayAboveMaxDelayIsAnError) {
  auto l = load_config_text("[retry]\ndelay = \"10m\"\nmax_delay = \"1m\"\n", "r.toml");
  EXPECT_TRUE(has_error(l, "r.toml:3:13: retry.delay (10m0s) must not exceed retry.max_delay"));
  auto p = load_config_text("[[policy]]\nwork_pool = \"a\"\ndelay = \"10m\"\n", "p.toml");
  EXPECT_TRUE(has_error(p, "p.toml:1:1: [[policy]] number 1: delay must not exceed max_delay"));
}

TEST(ConfigLoader, PolicyWithOnlyEmptyTagsMatchesEverythingAndIsRefused) {
  auto l = load_config_text("[[policy]]\ntags = []\nmax_attempts = 1\n", "p.toml");
  EXPECT_TRUE(has_error(l, "p.toml:2:8: [[policy]] number 1 matches every run"));
}

TEST(ConfigLoader, UnknownPolicyKey) {
  auto l = load_config_text("[[policy]]\nwork_pool = \"a\"\nretries = 3\n", "p.toml");
  EXPECT_TRUE(has_error(l, "p.toml:3:1: unknown key policy[0].retries"));
}

TEST(ConfigLoader, PolicyMustBeArrayOfTables) {
  auto l = load_config_text("[policy]\nwork_pool = \"a\"\n", "p.toml");
  EXPECT_TRUE(has_error(l, "policy must be an array of tables"));
}

TEST(ConfigLoader, SectionThatIsNotATable) {
  auto l = load_config_text("server = 3\n", "s.toml");
  EXPECT_TRUE(has_error(l, "s.toml:1:10: [server] must be a table"));
}

TEST(ConfigLoader, MissingSecretFileIsAnErrorAtItsKey) {
  TempDir dir;
  auto l = load_config_text("[server]\ntoken_file = \"nope\"\n", dir.path() + "/c.toml");
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_NE(l.errors[0].to_string().find(":2:14: server.token_file: cannot read \"nope\""), std::string::npos)
      << l.errors[0].to_string();
}

TEST(ConfigLoader, EmptySecretFileIsAnError) {
  TempDir dir;
  dir.write("empty", "\n  \n");
  auto l = load_config_text("[database]\nurl_file = \"empty\"\n", dir.path() + "/c.toml");
  EXPECT_TRUE(has_error(l, "database.url_file: \"empty\" is empty"));
}

TEST(ConfigLoader, UrlAndUrlFileTogetherIsAnError) {
  TempDir dir;
  dir.write("db", "postgresql://x/y");
  auto l = load_config_text("[database]\nurl = \"postgresql://a/b\"\nurl_file = \"db\"\n", dir.path() + "/c.toml");
  EXPECT_TRUE(has_error(l, "set database.url or database.url_file, not both"));
}

TEST(ConfigLoader, BothPrefectCredentialsIsAnError) {
  TempDir dir;
  dir.write("a", "x");
  dir.write("b", "y");
  auto l = load_config_text("[prefect]\napi_key_file = \"a\"\nauth_string_file = \"b\"\n", dir.path() + "/c.toml");
  EXPECT_TRUE(has_error(l, "not both"));
}

TEST(ConfigLoader, AbsoluteSecretPathsAreUsedAsIs) {
  TempDir dir;
  auto token = dir.write("t", "abc");
  auto l = load_config_text("[server]\ntoken_file = \"" + token + "\"\n", "/elsewhere/c.toml");
  ASSERT_TRUE(l.ok()) << ::testing::PrintToString(messages(l));
  EXPECT_EQ(l.config.server.token, "abc");
}

TEST(ConfigLoader, BadApiUrl) {
  auto l = load_config_text("[prefect]\napi_url = \"ftp://x\"\n", "u.toml");
  EXPECT_TRUE(has_error(l, "u.toml:2:11: prefect.api_url"));
}

TEST(ConfigLoader, SyntaxErrorHasPosition) {
  auto l = load_config_text("[server\nlisten = 1\n", "s.toml");
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].line, 1u);
  EXPECT_NE(l.errors[0].to_string().find("s.toml:1:"), std::string::npos);
}

TEST(ConfigLoader, UnreadableFile) {
  auto l = load_config_file("/nonexistent/lifeline.toml");
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].to_string(), "/nonexistent/lifeline.toml: cannot read the configuration file");
}

}  // namespace
}  // namespace lifeline::reaper
