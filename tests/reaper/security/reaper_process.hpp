#pragma once
// A real lifeline-reaper process for the security and limits tests: a configuration
// written into a temporary directory, serving on 127.0.0.1:0 against a fresh database of
// the shared TempPostgres, its port read back from its "listening" line.
// Thread-safety: one owner thread.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>

#include "tests/support/postgres_fixture.hpp"
#include "tests/support/subprocess.hpp"

namespace lifeline::reaper::testing {

using namespace std::chrono_literals;

// A directory under /tmp removed with its owner.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/reaper-security-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }

 private:
  std::string path_;
};

class ReaperProcess {
 public:
  // `toml` is the whole configuration but [database] (added with a fresh database unless
  // `database_url` is given) and server.listen (127.0.0.1:0).
  ReaperProcess(const TempDir& dir, const std::string& server_toml, const std::string& rest_toml,
                const std::string& prefix, std::string database_url = "",
                std::vector<std::string> extra_args = {}) {
    if (database_url.empty()) database_url = lifeline::testing::TempPostgres::shared().create_database();
    config_path_ = dir.write(prefix + ".toml", "[server]\nlisten = \"127.0.0.1:0\"\n" + server_toml +
                                                   "\n[database]\nurl = \"" + database_url + "\"\n" + rest_toml);
    std::vector<std::string> argv = {lifeline::testing::bin_path("lifeline-reaper"), "--config", config_path_};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_ = std::make_unique<lifeline::testing::Subprocess>(
        lifeline::testing::Subprocess::Options{argv, {}, {}, true, prefix});
    auto port = process_->wait_for_output(std::regex("listening.* port=([0-9]+)"), 30s, true);
    EXPECT_TRUE(port) << process_->stderr_text();
    if (port) port_ = static_cast<std::uint16_t>(std::stoi(*port));
  }

  std::uint16_t port() const { return port_; }
  const std::string& config_path() const { return config_path_; }
  lifeline::testing::Subprocess& process() { return *process_; }

 private:
  std::string config_path_;
  std::unique_ptr<lifeline::testing::Subprocess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace lifeline::reaper::testing
