#pragma once
// Closing a client's connection from inside a cpp-httplib handler, so that the client
// gets no answer at all (as when a load balancer or the server dies mid-request).
// cpp-httplib does not hand the socket to handlers; the socket is found among the
// process's descriptors by its two endpoints (the request's local and remote ports), and
// shut down. httplib then fails to write its answer and closes the connection.
// Thread-safety: safe from any handler thread (no shared state). Linux only.

#include <string>

namespace lifeline::fake_prefect {

// true when the server-side socket of that connection was found and shut down.
bool drop_connection(const std::string& remote_addr, int remote_port, int local_port);

}  // namespace lifeline::fake_prefect
