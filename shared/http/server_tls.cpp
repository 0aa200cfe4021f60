// The TLS half of the HTTP server: a connection's handshake, its request/answer loop over
// the TLS stream, and its close_notify. Only programs that call Server::set_tls link this
// file, and with it OpenSSL.
#include <algorithm>

#include <boost/asio/ssl/stream.hpp>

#include "shared/http/server.hpp"
#include "shared/http/server_session.hpp"

namespace lifeline::http {

void Server::set_tls(TlsContext context) {
  tls_ = std::move(context);
  tls_session_ = &Server::serve_tls;
}

boost::asio::awaitable<void> Server::serve_tls(Connection& conn, boost::asio::ssl::context& tls,
                                               const std::string& remote) {
  namespace ssl = boost::asio::ssl;
  ssl::stream<detail::tcp::socket&> stream(conn.socket, tls);
  conn.expires_after(limits_.request_timeout);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, detail::kAwait);
  if (hec) co_return;
  co_await exchange(conn, stream, remote);
  // close_notify, so that the client can tell an orderly close from a truncation; a client
  // that never answers it costs at most a second.
  conn.expires_after(std::min<std::chrono::milliseconds>(limits_.request_timeout, std::chrono::seconds(1)));
  co_await stream.async_shutdown(detail::kAwait);
}

}  // namespace lifeline::http
