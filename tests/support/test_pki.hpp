#pragma once
// Throwaway certificates for TLS tests, made at test time with the openssl command (no
// private key is committed): a trusted CA and a server certificate for 127.0.0.1 and
// localhost, a second "foreign" CA with its own server certificate for the same names, and
// a certificate from the trusted CA for other names only.
// Thread-safety: one owner; the files live until the directory is removed.

#include <string>

namespace lifeline::testing {

struct TestPki {
  std::string ca_pem;              // the CA sidecars are told to trust
  std::string server_pem, server_key;            // 127.0.0.1 + localhost, from ca_pem
  std::string foreign_ca_pem;
  std::string foreign_server_pem, foreign_server_key;  // 127.0.0.1 + localhost, from foreign_ca_pem
  std::string other_host_pem, other_host_key;    // reaper.example + 10.9.9.9 only, from ca_pem
};

// Writes everything into `dir` (which must exist); throws std::runtime_error when openssl fails.
TestPki make_test_pki(const std::string& dir);

}  // namespace lifeline::testing
