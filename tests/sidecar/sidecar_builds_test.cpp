// Component tests of the sidecar's two builds: the plain lifeline-sidecar, which never loads
// OpenSSL, and lifeline-sidecar-tls, which it becomes (same process, same arguments) for an
// https:// reaper URL. TLS heartbeats themselves are tested against the real reaper in
// tests/reaper/security/tls_test.cpp, through the plain build.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/sidecar/fake_lease_endpoint.hpp"
#include "tests/sidecar/sidecar_process.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string exe_of(pid_t pid) {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
}

bool maps_openssl(pid_t pid) {
  const std::string maps = read_text("/proc/" + std::to_string(pid) + "/maps");
  return maps.find("libssl.so") != std::string::npos || maps.find("libcrypto.so") != std::string::npos;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> hold() { return shell("sleep 30"); }

TEST(SidecarBuilds, PlainHttpNeverLoadsOpenSsl) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizer builds link every library the targets name (no --as-needed)";
#endif
  FakeLeaseEndpoint reaper;
  SidecarProcess sc({.reaper_url = reaper.url(), .command = hold(), .log_prefix = "builds-plain"});
  ASSERT_TRUE(sc.health_port().has_value());
  ASSERT_TRUE(wait_until([&] { return !reaper.heartbeats().empty(); }, 5s));
  const pid_t pid = sc.process().pid();
  EXPECT_TRUE(ends_with(exe_of(pid), "/lifeline-sidecar")) << exe_of(pid);
  EXPECT_FALSE(maps_openssl(pid)) << read_text("/proc/" + std::to_string(pid) + "/maps");
  ::kill(pid, SIGTERM);
  EXPECT_TRUE(sc.process().wait_exit(10s).has_value());
}

TEST(SidecarBuilds, HttpsUrlRunsTheTlsBuildInTheSameProcess) {
  // Nothing listens on the port: the sidecar keeps retrying, which is all this needs.
  const std::string url = "https://127.0.0.1:" + std::to_string(free_port());
  SidecarProcess sc({.reaper_url = url, .command = hold(), .log_prefix = "builds-tls"});
  ASSERT_TRUE(sc.health_port().has_value()) << sc.process().stderr_text();
  const pid_t pid = sc.process().pid();
  EXPECT_TRUE(ends_with(exe_of(pid), "/lifeline-sidecar-tls")) << exe_of(pid);
  EXPECT_TRUE(maps_openssl(pid));
  ::kill(pid, SIGTERM);
  EXPECT_TRUE(sc.process().wait_exit(10s).has_value());
}

TEST(SidecarBuilds, HttpsUrlWithoutTheTlsBuildBesideItExits2AndSaysWhy) {
  // The plain build alone in a directory, as in an image that forgot the TLS build.
  const std::string dir = ::testing::TempDir() + "sidecar-alone-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string alone = dir + "/lifeline-sidecar";
  std::filesystem::copy_file(bin_path("lifeline-sidecar"), alone, std::filesystem::copy_options::overwrite_existing);
  Subprocess::Options o;
  o.argv = {alone, "exec", "--run-id", kTestRunId, "--reaper-url", "https://127.0.0.1:9", "--listen", "127.0.0.1:0",
            "--holder", "p", "--node", "n", "--", "/bin/true"};
  o.unset_env = {"LIFELINE_REAPER_URL", "LIFELINE_RUN_ID"};
  o.log_prefix = "builds-alone";
  Subprocess p(o);
  auto code = p.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  const std::string err = p.stderr_text();
  EXPECT_NE(err.find("needs lifeline-sidecar-tls beside this program"), std::string::npos) << err;
  EXPECT_NE(err.find(dir + "/lifeline-sidecar-tls"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lifeline::testing
