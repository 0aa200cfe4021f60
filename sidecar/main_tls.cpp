// lifeline-sidecar-tls: the sidecar with TLS to the reaper (OpenSSL). The plain
// lifeline-sidecar runs this build for an https:// reaper URL; it serves http:// as well.
#include "sidecar/entry.hpp"
#include "sidecar/heartbeat_tls.hpp"

namespace {

using namespace lifeline;

Result<std::unique_ptr<sidecar::TlsLayer>> make_tls(const sidecar::Options& options, char**) {
  auto layer = sidecar::make_tls_layer(options.reaper_ca_file);
  if (!layer) return make_error(layer.error().code, "reaper-ca-file: " + layer.error().message);
  return layer;
}

}  // namespace

int main(int argc, char** argv) { return sidecar::run_sidecar(argc, argv, make_tls); }
