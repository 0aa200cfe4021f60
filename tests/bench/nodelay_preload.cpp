// An LD_PRELOAD shim for measurements only: turns on TCP_NODELAY on every TCP socket a
// process connects or accepts. It shows what a program would gain from setting it itself
// (cpp-httplib leaves Nagle on by default, so a request written as headers then body, or a
// response likewise, waits for the peer's delayed ACK: about 40 ms on Linux).
// Used by tools/bench.sh to run the reaping benchmark a second time, "with TCP_NODELAY".

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

void set_nodelay(int fd) {
  int type = 0, domain = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return;
  len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || (domain != AF_INET && domain != AF_INET6)) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

int connect(int fd, const sockaddr* addr, socklen_t len) {
  static auto real = next<int (*)(int, const sockaddr*, socklen_t)>("connect");
  set_nodelay(fd);
  return real(fd, addr, len);
}

int accept(int fd, sockaddr* addr, socklen_t* len) {
  static auto real = next<int (*)(int, sockaddr*, socklen_t*)>("accept");
  int c = real(fd, addr, len);
  if (c >= 0) set_nodelay(c);
  return c;
}

int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  static auto real = next<int (*)(int, sockaddr*, socklen_t*, int)>("accept4");
  int c = real(fd, addr, len, flags);
  if (c >= 0) set_nodelay(c);
  return c;
}

}  // extern "C"
