// The lifeline-reaper program as a real process: check-config, migrate, serve,
// SIGHUP reload, SIGTERM drain.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include "reaper/store/embedded_schema.hpp"
#include "shared/uuid.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::Subprocess;
using testing::TempPostgres;
using testing::wait_until;

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reaper-app-test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
  std::string config(const std::string& uri, const std::string& extra = "") {
    return "[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"" + uri + "\"\n" + extra;
  }
  Subprocess run(std::vector<std::string> args, const std::string& prefix) {
    args.insert(args.begin(), testing::bin_path("lifeline-reaper"));
    return Subprocess({args, {}, {}, true, prefix});
  }

  std::string dir_;
};

TEST_F(AppTest, CheckConfigPrintsSettingsOrEveryError) {
  auto good = write("good.toml", "[leases]\nmin_ttl = \"2s\"\n");
  auto ok = run({"check-config", good}, "check-good");
  ASSERT_EQ(ok.wait_exit(20s), 0);
  EXPECT_NE(ok.stdout_text().find("min_ttl = \"2s\""), std::string::npos) << ok.stdout_text();

  auto bad = write("bad.toml", "[leases]\nmin_ttl = \"2\"\n[reaper]\nbatch = 3\n");
  auto fail = run({"check-config", bad}, "check-bad");
  ASSERT_EQ(fail.wait_exit(20s), 2);
  auto err = fail.stderr_text();
  EXPECT_NE(err.find("bad.toml:2:11: leases.min_ttl"), std::string::npos) << err;
  EXPECT_NE(err.find("bad.toml:4:1: unknown key reaper.batch"), std::string::npos) << err;
}

TEST_F(AppTest, UsageErrorsExit2AndHelpExits0) {
  auto u = run({"--bogus"}, "usage");
  EXPECT_EQ(u.wait_exit(20s), 2);
  auto h = run({"--help"}, "help");
  EXPECT_EQ(h.wait_exit(20s), 0);
  EXPECT_NE(h.stdout_text().find("check-config"), std::string::npos);
  auto v = run({"--version"}, "version");
  EXPECT_EQ(v.wait_exit(20s), 0);
  EXPECT_NE(v.stdout_text().find("lifeline-reaper "), std::string::npos);
}

TEST_F(AppTest, MigrateAppliesTheSchema) {
  auto uri = TempPostgres::shared().create_database();
  auto cfg = write("c.toml", config(uri));
  auto m = run({"migrate", "--config", cfg}, "migrate");
  ASSERT_EQ(m.wait_exit(30s), 0) << m.stderr_text();
  EXPECT_EQ(TempPostgres::shared().query_value("SELECT count(*) FROM lifeline_schema_migrations",
                                                uri.substr(uri.rfind('/') + 1)),
            std::to_string(store::embedded_migrations().size()));
}

TEST_F(AppTest, ServesReloadsAndDrains) {
  auto uri = TempPostgres::shared().create_database();
  auto cfg = write("c.toml", config(uri, "[leases]\nmin_ttl = \"5s\"\n"));
  auto p = run({"--config", cfg}, "serve");
  auto port = p.wait_for_output(std::regex("listening.* port=([0-9]+)"), 30s, true);
  ASSERT_TRUE(port) << p.stderr_text();
  httplib::Client cl("127.0.0.1", static_cast<std::uint16_t>(std::stoi(*port)));
  std::string run_id = uuid_v4();
  std::string body = R"({"holder":"pod-a","ttl_seconds":1,"seq":1})";
  auto r = cl.Put(("/v1/leases/" + run_id).c_str(), body, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["ttl_seconds"], 5);

  // A broken file is refused and the old configuration kept.
  write("c.toml", "[leases]\nmin_ttl = \"soon\"\n");
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output(std::regex("reload failed"), 10s, true));
  EXPECT_EQ(cl.Get("/healthz")->status, 200);

  // A good one applies the new TTL bounds live.
  write("c.toml", config(uri, "[leases]\nmin_ttl = \"7s\"\n"));
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output(std::regex("configuration reloaded"), 10s, true));
  auto after = cl.Put(("/v1/leases/" + run_id).c_str(), body, "application/json");
  ASSERT_TRUE(after);
  EXPECT_EQ(json::parse(after->body)["ttl_seconds"], 7);

  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(20s), 0) << p.stderr_text();
  EXPECT_NE(p.stderr_text().find("drained"), std::string::npos);
}

TEST_F(AppTest, SeveralApiThreadsServeOnePortAndDrain) {
  auto uri = TempPostgres::shared().create_database();
  auto cfg = write("c.toml", "[server]\nlisten = \"127.0.0.1:0\"\napi_threads = 3\n[database]\nurl = \"" + uri + "\"\n");
  auto p = run({"--config", cfg}, "threads");
  auto port = p.wait_for_output(std::regex("listening.* port=([0-9]+)"), 30s, true);
  ASSERT_TRUE(port) << p.stderr_text();
  EXPECT_NE(p.stderr_text().find("api_threads=3"), std::string::npos) << p.stderr_text();
  // Keep-alive clients on their own connections, concurrently: whichever thread accepted
  // a connection answers it, every heartbeat is committed and answered.
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&] {
      httplib::Client cl("127.0.0.1", static_cast<std::uint16_t>(std::stoi(*port)));
      std::string run_id = uuid_v4();
      for (int seq = 1; seq <= 5; ++seq) {
        auto r = cl.Put(("/v1/leases/" + run_id).c_str(),
                        R"({"holder":"pod-a","ttl_seconds":30,"seq":)" + std::to_string(seq) + "}", "application/json");
        if (r && r->status == 200) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 60);
  EXPECT_EQ(TempPostgres::shared().query_value("SELECT count(*) FROM lifeline_leases", uri.substr(uri.rfind('/') + 1)),
            "12");
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(20s), 0) << p.stderr_text();
  EXPECT_NE(p.stderr_text().find("drained"), std::string::npos);
}

TEST_F(AppTest, ConfigurationErrorExits2BeforeServing) {
  auto cfg = write("c.toml", "[leases]\nmax_ttl = \"1s\"\n");
  auto p = run({"--config", cfg}, "badcfg");
  EXPECT_EQ(p.wait_exit(20s), 2);
  EXPECT_NE(p.stderr_text().find("leases.min_ttl (5s) must not exceed leases.max_ttl (1s)"), std::string::npos)
      << p.stderr_text();
}

}  // namespace
}  // namespace lifeline::reaper
