#pragma once
// TLS for the heartbeat API, on OpenSSL through Asio: the reaper's server context
// (certificate chain and private key, PEM) and the sidecar's client context (verifies the
// reaper's certificate against the system store or a given CA bundle, and its host name).
// A server context is built once per load; SIGHUP builds a new one and new connections
// take it, so certificates rotate without dropping connections.
// Thread-safety: free functions; a built context is shared read-only.

#include <memory>
#include <string>

#include "shared/result.hpp"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace lifeline::http {

using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

// TLS 1.2 or newer; loads `cert_file` (the server certificate first, then intermediates)
// and `key_file`, and checks that they belong together. Errors name the file and why.
Result<TlsContext> make_server_tls_context(const std::string& cert_file, const std::string& key_file);

// TLS 1.2 or newer, peer verification on; trusts `ca_file` (PEM bundle) when given, else
// the system's default store.
Result<TlsContext> make_client_tls_context(const std::string& ca_file);

// Before a client handshake: send `host` as SNI (names only) and require the certificate
// to be issued to it (DNS name, or IP address for an address literal).
Status expect_peer_host(ssl_st* ssl, const std::string& host);

}  // namespace lifeline::http
