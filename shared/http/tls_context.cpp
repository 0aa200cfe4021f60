#include "shared/http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <fstream>

namespace lifeline::http {

namespace ssl = boost::asio::ssl;

namespace {

// The last OpenSSL error queued by a failed call, as text (the queue is cleared).
std::string openssl_reason(const boost::system::error_code& ec) {
  std::string text = ec ? ec.message() : std::string();
  unsigned long code = 0;
  while (unsigned long e = ERR_get_error()) code = e;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

bool readable(const std::string& path) { return std::ifstream(path).good(); }

Result<TlsContext> base_context(ssl::context::method method) {
  auto ctx = std::make_shared<ssl::context>(method);
  // Nothing older than TLS 1.2; no compression (CRIME), no renegotiation by the client.
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
    return make_error("tls", "cannot require TLS 1.2: " + openssl_reason({}));
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

}  // namespace

Result<TlsContext> make_server_tls_context(const std::string& cert_file, const std::string& key_file) {
  if (!readable(cert_file)) return make_error("tls_cert", "cannot read \"" + cert_file + "\"");
  if (!readable(key_file)) return make_error("tls_key", "cannot read \"" + key_file + "\"");
  auto ctx = base_context(ssl::context::tls_server);
  if (!ctx) return ctx.error();
  boost::system::error_code ec;
  (*ctx)->use_certificate_chain_file(cert_file, ec);
  if (ec) return make_error("tls_cert", "\"" + cert_file + "\" is not a PEM certificate chain: " + openssl_reason(ec));
  // OpenSSL checks the key against the certificate while loading it; tell that apart from
  // a file that holds no key.
  // (Asio takes the error off OpenSSL's queue into `ec`, whose value is the packed code.)
  (*ctx)->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH)
    return make_error("tls_key", "\"" + key_file + "\" does not match the certificate in \"" + cert_file + "\"");
  if (ec) return make_error("tls_key", "\"" + key_file + "\" is not a PEM private key: " + openssl_reason(ec));
  if (SSL_CTX_check_private_key((*ctx)->native_handle()) != 1)
    return make_error("tls_key", "\"" + key_file + "\" does not match the certificate in \"" + cert_file +
                                     "\": " + openssl_reason({}));
  return ctx;
}

Result<TlsContext> make_client_tls_context(const std::string& ca_file) {
  auto ctx = base_context(ssl::context::tls_client);
  if (!ctx) return ctx.error();
  boost::system::error_code ec;
  if (ca_file.empty()) {
    (*ctx)->set_default_verify_paths(ec);
    if (ec) return make_error("tls_ca", "cannot load the system's CA store: " + openssl_reason(ec));
  } else {
    if (!readable(ca_file)) return make_error("tls_ca", "cannot read \"" + ca_file + "\"");
    (*ctx)->load_verify_file(ca_file, ec);
    if (ec) return make_error("tls_ca", "\"" + ca_file + "\" is not a PEM CA bundle: " + openssl_reason(ec));
  }
  (*ctx)->set_verify_mode(ssl::verify_peer);
  return ctx;
}

Status expect_peer_host(ssl_st* ssl, const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // No partial wildcards ("a*.example"): what browsers accept.
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
      return make_error("tls", "cannot expect IP address " + host + ": " + openssl_reason({}));
    return Ok{};
  }
  // SSL_set_tlsext_host_name without its C cast (a macro over SSL_ctrl).
  long sni = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  if (sni != 1 || SSL_set1_host(ssl, host.c_str()) != 1)
    return make_error("tls", "cannot expect host name " + host + ": " + openssl_reason({}));
  return Ok{};
}

}  // namespace lifeline::http
