#include "reaper/config_report.hpp"

#include <gtest/gtest.h>

#include "reaper/config_loader.hpp"

namespace lifeline::reaper {
namespace {

using namespace std::chrono_literals;

TEST(ConfigReport, RoundTripsThroughTheLoader) {
  auto first = load_config_text(R"([server]
listen = "127.0.0.1:9000"
[leases]
min_ttl = "2s"
[reaper]
work_pools = ["gpu", "cpu"]
[retry]
multiplier = 3
jitter = 0.25
[[policy]]
work_pool = "gpu"
tags = ["a"]
delay = "1s"
)",
                                "a.toml");
  ASSERT_TRUE(first.ok());
  auto text = describe_config(first.config);
  auto second = load_config_text(text, "b.toml");
  ASSERT_TRUE(second.ok()) << text;
  const Config& c = second.config;
  EXPECT_EQ(c.server.listen.port, 9000);
  EXPECT_EQ(c.leases.min_ttl, 2s);
  EXPECT_EQ(c.reaper.work_pools, first.config.reaper.work_pools);
  EXPECT_DOUBLE_EQ(c.retry.multiplier, 3.0);
  EXPECT_DOUBLE_EQ(c.retry.jitter, 0.25);
  ASSERT_EQ(c.policies.size(), 1u);
  EXPECT_EQ(c.policies[0].tags, std::vector<std::string>{"a"});
  EXPECT_EQ(c.policies[0].delay, 1s);
}

TEST(ConfigReport, SecretsAreNeverPrinted) {
  Config c;
  c.server.token_file = "/secrets/token";
  c.server.token = "super-secret-token";
  c.prefect.api_key = "pnu_secret";
  c.prefect.api_key_file = "/secrets/key";
  c.database.url = "postgresql://lifeline:hunter2@db:5432/lifeline";
  auto text = describe_config(c);
  EXPECT_EQ(text.find("super-secret-token"), std::string::npos);
  EXPECT_EQ(text.find("pnu_secret"), std::string::npos);
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_NE(text.find("postgresql://lifeline:***@db:5432/lifeline"), std::string::npos) << text;
}

TEST(ConfigReport, UrlFromFileIsNotPrinted) {
  Config c;
  c.database.url_file = "/secrets/db";
  c.database.url = "postgresql://a:b@c/d";
  auto text = describe_config(c);
  EXPECT_EQ(text.find("postgresql://a:b"), std::string::npos);
  EXPECT_NE(text.find("url_file = \"/secrets/db\""), std::string::npos);
}

TEST(RedactConninfo, Forms) {
  EXPECT_EQ(redact_conninfo("postgresql://u:p@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_conninfo("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(redact_conninfo("postgresql://h/db?user=u&password=pw&sslmode=require"),
            "postgresql://h/db?user=u&password=***&sslmode=require");
  EXPECT_EQ(redact_conninfo("host=h user=u password=pw dbname=d"), "host=h user=u password=*** dbname=d");
  EXPECT_EQ(redact_conninfo("host=h password = 'p w' dbname=d"), "host=h password = *** dbname=d");
  EXPECT_EQ(redact_conninfo("host=h dbname=d"), "host=h dbname=d");
}

}  // namespace
}  // namespace lifeline::reaper
