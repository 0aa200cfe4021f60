#pragma once
// The `inject` verb: file I/O around the pure injector in sidecar/inject/.
// Thread-safety: runs alone on the main thread.

#include "sidecar/options.hpp"

namespace lifeline::sidecar {

// Reads the template, injects, writes it; returns the exit status (0, or 2 with a message
// on stderr).
int run_inject(const InjectCli& cli);

}  // namespace lifeline::sidecar
