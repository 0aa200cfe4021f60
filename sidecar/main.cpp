// lifeline-sidecar, the plain build: everything but TLS, so that the sidecar of an http://
// pod never loads OpenSSL (about 2 MiB of resident memory per pod). Given an https:// reaper
// URL it replaces itself, same process and arguments, with lifeline-sidecar-tls from its
// own directory.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "sidecar/entry.hpp"

namespace {

using namespace lifeline;

Result<std::unique_ptr<sidecar::TlsLayer>> exec_tls_build(const sidecar::Options&, char** argv) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return make_error("tls", "an https:// reaper URL needs lifeline-sidecar-tls, and this program cannot "
                                   "find its own directory: " + ec.message());
  const std::string tls_build = (self.parent_path() / "lifeline-sidecar-tls").string();
  ::execv(tls_build.c_str(), argv);
  return make_error("tls", "an https:// reaper URL needs lifeline-sidecar-tls beside this program; cannot run " +
                               tls_build + ": " + std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) { return sidecar::run_sidecar(argc, argv, exec_tls_build); }
