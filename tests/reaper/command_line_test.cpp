#include "reaper/command_line.hpp"

#include <gtest/gtest.h>

namespace lifeline::reaper {
namespace {

TEST(CommandLine, Serve) {
  auto cl = parse_command_line({"--config", "/etc/l.toml"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->command, Command::serve);
  EXPECT_EQ(cl->config_path, "/etc/l.toml");
  EXPECT_EQ(cl->log_level, LogLevel::info);
}

TEST(CommandLine, ServeWithEqualsAndLogLevel) {
  auto cl = parse_command_line({"--config=/c.toml", "--log-level", "debug"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->config_path, "/c.toml");
  EXPECT_EQ(cl->log_level, LogLevel::debug);
}

TEST(CommandLine, CheckConfigTakesAFile) {
  auto cl = parse_command_line({"check-config", "x.toml"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->command, Command::check_config);
  EXPECT_EQ(cl->config_path, "x.toml");
  EXPECT_FALSE(parse_command_line({"check-config"}).ok());
}

TEST(CommandLine, Migrate) {
  auto cl = parse_command_line({"migrate", "--config", "x.toml"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->command, Command::migrate);
  auto missing = parse_command_line({"migrate"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "migrate needs --config FILE");
}

TEST(CommandLine, HelpAndVersionWinAnywhere) {
  EXPECT_EQ(parse_command_line({"--help"})->command, Command::help);
  EXPECT_EQ(parse_command_line({"migrate", "--help"})->command, Command::help);
  EXPECT_EQ(parse_command_line({"--version"})->command, Command::version);
}

TEST(CommandLine, UsageErrors) {
  EXPECT_FALSE(parse_command_line({}).ok());
  EXPECT_FALSE(parse_command_line({"--config"}).ok());
  EXPECT_FALSE(parse_command_line({"--config", "a", "--bogus"}).ok());
  EXPECT_FALSE(parse_command_line({"frobnicate"}).ok());
  EXPECT_FALSE(parse_command_line({"--config", "a", "extra"}).ok());
  auto level = parse_command_line({"--config", "a", "--log-level", "loud"});
  ASSERT_FALSE(level.ok());
  EXPECT_NE(level.error().message.find("loud"), std::string::npos);
}

}  // namespace
}  // namespace lifeline::reaper
