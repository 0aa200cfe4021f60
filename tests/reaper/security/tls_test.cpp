// TLS between sidecar and reaper, with real processes and throwaway certificates:
// heartbeats and release over TLS, a certificate from an unknown CA or for another host
// refused by the sidecar, plain HTTP refused by a TLS listener, a certificate rotated by
// SIGHUP, and check-config's validation of the certificate settings.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <set>

#include <nlohmann/json.hpp>

#include "reaper/config_loader.hpp"
#include "shared/uuid.hpp"
#include "tests/reaper/security/reaper_process.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper::testing {
namespace {

using json = nlohmann::json;
using lifeline::testing::Subprocess;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new TempDir();
    pki_ = lifeline::testing::make_test_pki(pki_dir_->path());
  }
  static void TearDownTestSuite() {
    delete pki_dir_;
    pki_dir_ = nullptr;
  }

  static std::string tls_server(const std::string& cert, const std::string& key) {
    return "tls_cert_file = \"" + cert + "\"\ntls_key_file = \"" + key + "\"\n";
  }

  // An exec-mode sidecar whose workload runs `seconds`; short interval and TTL so that a
  // sidecar that cannot get its lease gives up (exit 3) within about two seconds.
  std::unique_ptr<Subprocess> sidecar(const std::string& url, const std::string& ca_file, const std::string& holder,
                                      const std::string& run_id, const std::string& seconds = "1.5",
                                      const std::string& interval = "300ms") {
    std::vector<std::string> argv = {lifeline::testing::bin_path("lifeline-sidecar"), "exec", "--run-id", run_id,
                                     "--reaper-url", url, "--holder", holder, "--interval", interval, "--ttl", "5s",
                                     "--kill-grace", "1s", "--listen", "127.0.0.1:0"};
    if (!ca_file.empty()) argv.insert(argv.end(), {"--reaper-ca-file", ca_file});
    argv.insert(argv.end(), {"--", "/bin/sh", "-c", "sleep " + seconds});
    return std::make_unique<Subprocess>(Subprocess::Options{argv, {}, {}, true, "tls-sidecar-" + holder});
  }

  static std::unique_ptr<httplib::SSLClient> tls_client(std::uint16_t port) {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    c->set_ca_cert_path(pki_.ca_pem.c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(5);
    return c;
  }

  // The leases the reaper holds for `holder`, read over TLS.
  static json leases_of(std::uint16_t port, const std::string& holder) {
    auto r = tls_client(port)->Get(("/v1/leases?holder=" + holder).c_str());
    if (!r || r->status != 200) return json::array();
    return json::parse(r->body);
  }

  TempDir dir_;
  static TempDir* pki_dir_;
  static lifeline::testing::TestPki pki_;
};

TempDir* TlsTest::pki_dir_ = nullptr;
lifeline::testing::TestPki TlsTest::pki_;

TEST_F(TlsTest, SidecarHeartbeatsAndReleasesOverTls) {
  ReaperProcess reaper(dir_, tls_server(pki_.server_pem, pki_.server_key), "", "tls-reaper");
  ASSERT_NE(reaper.port(), 0);
  std::string run_id = uuid_v4();
  // By address and by name: the certificate carries both.
  auto by_ip = sidecar("https://127.0.0.1:" + std::to_string(reaper.port()), pki_.ca_pem, "pod-tls-ip", run_id);
  std::string run_id2 = uuid_v4();
  auto by_name = sidecar("https://localhost:" + std::to_string(reaper.port()), pki_.ca_pem, "pod-tls-name", run_id2);
  EXPECT_EQ(by_ip->wait_exit(20s), 0) << by_ip->stderr_text();
  EXPECT_EQ(by_name->wait_exit(20s), 0) << by_name->stderr_text();

  for (const auto& [holder, id] : {std::pair{"pod-tls-ip", run_id}, std::pair{"pod-tls-name", run_id2}}) {
    auto leases = leases_of(reaper.port(), holder);
    ASSERT_EQ(leases.size(), 1u) << leases.dump();
    EXPECT_EQ(leases[0]["run_id"], id);
    EXPECT_EQ(leases[0]["state"], "released");
    EXPECT_EQ(leases[0]["release_outcome"], "exited");
    // 1.5 s of workload at a 300 ms interval: several renewals on the session.
    EXPECT_GE(leases[0]["seq"].get<int>(), 3);
  }
}

// The sockets a process holds, by inode: the same set later means no reconnect happened.
std::set<std::string> sockets_of(pid_t pid) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target.string().rfind("socket:", 0) == 0) out.insert(target.string());
  }
  return out;
}

TEST_F(TlsTest, SidecarKeepsOneTlsSessionAcrossHeartbeats) {
  ReaperProcess reaper(dir_, tls_server(pki_.server_pem, pki_.server_key), "", "tls-keepalive");
  ASSERT_NE(reaper.port(), 0);
  // A 1 s interval (500 ms per request): a loaded test machine must not turn a slow
  // heartbeat into a legitimate reconnect.
  auto s = sidecar("https://127.0.0.1:" + std::to_string(reaper.port()), pki_.ca_pem, "pod-keepalive", uuid_v4(), "30",
                   "1s");
  auto seq = [&] {
    auto l = leases_of(reaper.port(), "pod-keepalive");
    return l.size() == 1 ? l[0]["seq"].get<int>() : 0;
  };
  ASSERT_TRUE(lifeline::testing::wait_until([&] { return seq() >= 2; }, 30s)) << s->stderr_text();
  auto before = sockets_of(s->pid());
  int seq_before = seq();
  // The health listener and the one connection to the reaper.
  EXPECT_EQ(before.size(), 2u);
  ASSERT_TRUE(lifeline::testing::wait_until([&] { return seq() >= seq_before + 3; }, 30s)) << s->stderr_text();
  EXPECT_EQ(sockets_of(s->pid()), before) << "the sidecar reconnected between heartbeats";
  s->signal(SIGTERM);
  EXPECT_TRUE(s->wait_exit(20s).has_value());
}

TEST_F(TlsTest, SidecarRefusesACertificateFromAnUnknownCa) {
  ReaperProcess reaper(dir_, tls_server(pki_.foreign_server_pem, pki_.foreign_server_key), "", "tls-foreign");
  ASSERT_NE(reaper.port(), 0);
  std::string url = "https://127.0.0.1:" + std::to_string(reaper.port());
  // Told to trust our CA, and with the system store (which knows neither test CA).
  auto own_ca = sidecar(url, pki_.ca_pem, "pod-foreign-1", uuid_v4(), "30");
  auto system = sidecar(url, "", "pod-foreign-2", uuid_v4(), "30");
  // Exit 3: no heartbeat acknowledged within the fencing budget, so the workload never ran.
  EXPECT_EQ(own_ca->wait_exit(20s), 3) << own_ca->stderr_text();
  EXPECT_EQ(system->wait_exit(20s), 3) << system->stderr_text();
  // The reaper never saw a heartbeat from either (read with a client that trusts its CA).
  httplib::SSLClient c("127.0.0.1", reaper.port());
  c.set_ca_cert_path(pki_.foreign_ca_pem.c_str());
  c.enable_server_certificate_verification(true);
  auto r = c.Get("/v1/leases");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body).size(), 0u) << r->body;
}

TEST_F(TlsTest, TlsListenerRefusesPlainHttpAndKeepsServing) {
  ReaperProcess reaper(dir_, tls_server(pki_.server_pem, pki_.server_key), "", "tls-plain");
  ASSERT_NE(reaper.port(), 0);
  httplib::Client plain("127.0.0.1", reaper.port());
  plain.set_read_timeout(5);
  auto r = plain.Get("/healthz");
  EXPECT_FALSE(r && r->status == 200) << "plain HTTP was answered on a TLS listener";
  // A plain-HTTP sidecar gets nothing either.
  auto s = sidecar("http://127.0.0.1:" + std::to_string(reaper.port()), "", "pod-plain", uuid_v4(), "30");
  EXPECT_EQ(s->wait_exit(20s), 3) << s->stderr_text();
  auto ok = tls_client(reaper.port())->Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(TlsTest, WrongHostNameIsRefusedAndSighupRotatesTheCertificate) {
  ReaperProcess reaper(dir_, tls_server(pki_.other_host_pem, pki_.other_host_key), "", "tls-host");
  ASSERT_NE(reaper.port(), 0);
  // Issued by the trusted CA, but to reaper.example and 10.9.9.9 only.
  auto by_ip = sidecar("https://127.0.0.1:" + std::to_string(reaper.port()), pki_.ca_pem, "pod-host-1", uuid_v4(), "30");
  auto by_name = sidecar("https://localhost:" + std::to_string(reaper.port()), pki_.ca_pem, "pod-host-2", uuid_v4(), "30");
  EXPECT_EQ(by_ip->wait_exit(20s), 3) << by_ip->stderr_text();
  EXPECT_EQ(by_name->wait_exit(20s), 3) << by_name->stderr_text();

  // Rotate to the right certificate: the same port accepts the sidecar after SIGHUP.
  dir_.write("tls-host.toml", std::string("[server]\nlisten = \"127.0.0.1:0\"\n") +
                                  tls_server(pki_.server_pem, pki_.server_key) + "[database]\nurl = \"" +
                                  lifeline::testing::TempPostgres::shared().uri() + "\"\n");
  reaper.process().signal(SIGHUP);
  ASSERT_TRUE(reaper.process().wait_for_output(std::regex("TLS certificate reloaded"), 10s, true))
      << reaper.process().stderr_text();
  auto after = sidecar("https://127.0.0.1:" + std::to_string(reaper.port()), pki_.ca_pem, "pod-host-3", uuid_v4());
  EXPECT_EQ(after->wait_exit(20s), 0) << after->stderr_text();
}

// check-config loads the certificate settings and names the one at fault.
class TlsConfigTest : public TlsTest {
 protected:
  ConfigLoad load(const std::string& server_toml) {
    return load_config_text("[server]\n" + server_toml, dir_.path() + "/reaper.toml");
  }
  static std::string errors(const ConfigLoad& l) {
    std::string s;
    for (const auto& e : l.errors) s += e.to_string() + "\n";
    return s;
  }
};

TEST_F(TlsConfigTest, BothFilesLoadTogether) {
  auto ok = load(tls_server(pki_.server_pem, pki_.server_key));
  ASSERT_TRUE(ok.ok()) << errors(ok);
  EXPECT_EQ(ok.config.server.tls_cert_file, pki_.server_pem);

  // Relative paths are relative to the configuration file.
  std::filesystem::copy_file(pki_.server_pem, dir_.path() + "/cert.pem");
  std::filesystem::copy_file(pki_.server_key, dir_.path() + "/key.pem");
  auto rel = load(tls_server("cert.pem", "key.pem"));
  ASSERT_TRUE(rel.ok()) << errors(rel);
  EXPECT_EQ(rel.config.server.tls_key_file, dir_.path() + "/key.pem");
}

TEST_F(TlsConfigTest, EachProblemNamesItsSetting) {
  auto alone = load("tls_cert_file = \"" + pki_.server_pem + "\"\n");
  ASSERT_EQ(alone.errors.size(), 1u);
  EXPECT_NE(errors(alone).find("reaper.toml:2:17: server.tls_cert_file needs server.tls_key_file"), std::string::npos)
      << errors(alone);

  auto missing = load(tls_server(dir_.path() + "/nope.pem", pki_.server_key));
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(errors(missing).find("server.tls_cert_file: cannot read"), std::string::npos) << errors(missing);

  auto garbage = load(tls_server(dir_.write("garbage.pem", "not a certificate\n"), pki_.server_key));
  ASSERT_EQ(garbage.errors.size(), 1u);
  EXPECT_NE(errors(garbage).find("server.tls_cert_file: "), std::string::npos) << errors(garbage);

  auto mismatch = load(tls_server(pki_.server_pem, pki_.foreign_server_key));
  ASSERT_EQ(mismatch.errors.size(), 1u);
  EXPECT_NE(errors(mismatch).find("reaper.toml:3:16: server.tls_key_file: "), std::string::npos) << errors(mismatch);
  EXPECT_NE(errors(mismatch).find("does not match"), std::string::npos) << errors(mismatch);
}

TEST_F(TlsConfigTest, CheckConfigExits2NamingTheSetting) {
  auto cfg = dir_.write("c.toml", "[server]\n" + tls_server(pki_.server_pem, pki_.ca_pem));
  Subprocess p({{lifeline::testing::bin_path("lifeline-reaper"), "check-config", cfg}, {}, {}, true, "tls-check"});
  ASSERT_EQ(p.wait_exit(20s), 2);
  EXPECT_NE(p.stderr_text().find("c.toml:3:16: server.tls_key_file: "), std::string::npos) << p.stderr_text();
}

}  // namespace
}  // namespace lifeline::reaper::testing
