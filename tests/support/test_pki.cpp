#include "tests/support/test_pki.hpp"

#include <fstream>
#include <stdexcept>

#include "tests/support/subprocess.hpp"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;

void openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  Subprocess p({args, {}, {}, false, "openssl"});
  auto code = p.wait_exit(60s);
  if (code != 0)
    throw std::runtime_error("openssl " + args[1] + " failed in " + dir + ": " + p.stderr_text());
}

// A P-256 key and a certificate signed by `ca` for the subjectAltName `san`.
void issue(const std::string& dir, const std::string& name, const std::string& ca, const std::string& san) {
  std::ofstream(dir + "/" + name + ".ext") << "subjectAltName=" << san << "\n"
                                           << "extendedKeyUsage=serverAuth\n";
  openssl(dir, {"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                dir + "/" + name + ".key", "-out", dir + "/" + name + ".csr", "-subj", "/CN=" + name});
  openssl(dir, {"x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", dir + "/" + ca + ".pem", "-CAkey",
                dir + "/" + ca + ".key", "-CAcreateserial", "-days", "2", "-out", dir + "/" + name + ".pem",
                "-extfile", dir + "/" + name + ".ext"});
}

void make_ca(const std::string& dir, const std::string& name) {
  openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                dir + "/" + name + ".key", "-out", dir + "/" + name + ".pem", "-days", "2", "-subj",
                "/CN=" + name});
}

}  // namespace

TestPki make_test_pki(const std::string& dir) {
  make_ca(dir, "ca");
  make_ca(dir, "foreign-ca");
  issue(dir, "server", "ca", "DNS:localhost,IP:127.0.0.1");
  issue(dir, "foreign-server", "foreign-ca", "DNS:localhost,IP:127.0.0.1");
  issue(dir, "other-host", "ca", "DNS:reaper.example,IP:10.9.9.9");
  TestPki p;
  p.ca_pem = dir + "/ca.pem";
  p.server_pem = dir + "/server.pem";
  p.server_key = dir + "/server.key";
  p.foreign_ca_pem = dir + "/foreign-ca.pem";
  p.foreign_server_pem = dir + "/foreign-server.pem";
  p.foreign_server_key = dir + "/foreign-server.key";
  p.other_host_pem = dir + "/other-host.pem";
  p.other_host_key = dir + "/other-host.key";
  return p;
}

}  // namespace lifeline::testing
