#include "sidecar/heartbeat_tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <optional>

#include "shared/http/tls_context.hpp"
#include "sidecar/heartbeat_exchange.hpp"

namespace lifeline::sidecar {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

class OpenSslLayer final : public TlsLayer {
 public:
  explicit OpenSslLayer(http::TlsContext context) : context_(std::move(context)) {}

  asio::awaitable<Status> start(beast::tcp_stream& tcp, const HttpUrl& base) override {
    stream_.emplace(tcp, *context_);
    if (auto s = http::expect_peer_host(stream_->native_handle(), base.host); !s) co_return s.error();
    auto [hec] = co_await stream_->async_handshake(asio::ssl::stream_base::client,
                                                   asio::as_tuple(asio::use_awaitable));
    if (hec) {
      std::string why = hec.message();
      long verify = SSL_get_verify_result(stream_->native_handle());
      if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
      co_return make_error(hec == beast::error::timeout ? "timeout" : "tls",
                           "TLS handshake with " + base.host_header() + ": " + why);
    }
    co_return Ok{};
  }

  asio::awaitable<Result<HttpReply>> exchange(HeartbeatClient& client, std::string method, std::string path,
                                              std::string body, Duration timeout) override {
    co_return co_await client.exchange(*stream_, std::move(method), std::move(path), std::move(body), timeout);
  }

 private:
  http::TlsContext context_;
  // A session lives as long as its TCP connection: a new one after each reconnect.
  std::optional<asio::ssl::stream<beast::tcp_stream&>> stream_;
};

}  // namespace

Result<std::unique_ptr<TlsLayer>> make_tls_layer(const std::string& ca_file) {
  auto context = http::make_client_tls_context(ca_file);
  if (!context) return context.error();
  return std::unique_ptr<TlsLayer>(std::make_unique<OpenSslLayer>(*context));
}

}  // namespace lifeline::sidecar
