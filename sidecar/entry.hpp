#pragma once
// What main() does in both builds of the sidecar: parse the command line, read the token,
// build the objects, run them. The builds differ only in how an https:// reaper URL gets
// its TLS: lifeline-sidecar-tls makes it (main_tls.cpp); the plain lifeline-sidecar, which
// does not link OpenSSL, replaces itself with lifeline-sidecar-tls (main.cpp).

#include <memory>

#include "shared/result.hpp"
#include "sidecar/heartbeat_client.hpp"
#include "sidecar/options.hpp"

namespace lifeline::sidecar {

// Returns the TLS layer for `options` (an https:// reaper URL), or does not return (exec);
// an Error ends the program with status 2 and the message.
using TlsProvider = Result<std::unique_ptr<TlsLayer>> (*)(const Options& options, char** argv);

int run_sidecar(int argc, char** argv, TlsProvider tls_provider);

}  // namespace lifeline::sidecar
