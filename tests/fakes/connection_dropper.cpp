#include "tests/fakes/connection_dropper.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace lifeline::fake_prefect {

namespace {

int port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, &addr, sizeof(in));
    return ntohs(in.sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &addr, sizeof(in6));
    return ntohs(in6.sin6_port);
  }
  return -1;
}

std::vector<int> open_descriptors() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return fds;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    fds.push_back(std::atoi(e->d_name));
  }
  closedir(dir);
  return fds;
}

}  // namespace

bool drop_connection(const std::string& /*remote_addr*/, int remote_port, int local_port) {
  for (int fd : open_descriptors()) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    // Both ends must match: the client's own socket, if in this process, has them swapped.
    if (port_of(local) == local_port && port_of(peer) == remote_port) {
      return ::shutdown(fd, SHUT_RDWR) == 0;
    }
  }
  return false;
}

}  // namespace lifeline::fake_prefect
