#pragma once
// The sidecar's TLS to the reaper on OpenSSL: the TlsLayer of lifeline-sidecar-tls.
// Linked only into that build (see main_tls.cpp), never into the plain lifeline-sidecar.

#include <memory>
#include <string>

#include "shared/result.hpp"
#include "sidecar/heartbeat_client.hpp"

namespace lifeline::sidecar {

// TLS 1.2 or newer, the reaper's certificate verified against `ca_file` (a PEM bundle) or,
// when empty, the system's store, and required to name the URL's host. Errors name the
// file and why.
Result<std::unique_ptr<TlsLayer>> make_tls_layer(const std::string& ca_file);

}  // namespace lifeline::sidecar
