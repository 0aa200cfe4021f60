#include "tests/support/subprocess.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait.hpp"

extern char** environ;

namespace lifeline::testing {
namespace {

std::atomic<int> g_counter{0};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Subprocess::Subprocess(Options opts) {
  if (opts.argv.empty()) throw std::invalid_argument("Subprocess: empty argv");
  std::string prefix = opts.log_prefix.empty() ? "proc" : opts.log_prefix;
  const char* tmp = std::getenv("TMPDIR");
  std::string base = std::string(tmp && *tmp ? tmp : "/tmp") + "/lifeline-test-" + std::to_string(getpid()) + "-" +
                     std::to_string(g_counter++) + "-" + prefix;
  out_path_ = base + ".out";
  err_path_ = base + ".err";

  // Build the environment before fork (no allocation after fork).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    bool drop = opts.env.count(key) > 0;
    for (const auto& u : opts.unset_env) drop = drop || u == key;
    if (!drop) env_strings.push_back(kv);
  }
  for (const auto& [k, v] : opts.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : opts.argv) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0 || err < 0) throw std::runtime_error("Subprocess: cannot open log files");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (opts.new_process_group) setpgid(0, 0);
    // A clean signal state for the child: nothing blocked or ignored from the test runner.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2}) ::signal(s, SIG_DFL);
    dup2(out, 1);
    dup2(err, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    // Nothing but stdin, stdout and stderr: Asio opens its sockets without FD_CLOEXEC, and a
    // child holding, say, a TcpProxy's listening socket kept it listening after the proxy
    // closed it, so "refused" connections queued instead, and the proxy could not listen on
    // its port again (bind: EADDRINUSE).
    // Before Linux 5.9 there is no close_range: close one by one, up to a bound (the limit
    // may be a million, and this runs for every process a test starts).
    if (::close_range(3, ~0U, 0) != 0)
      for (int fd = 3, n = static_cast<int>(std::min(::sysconf(_SC_OPEN_MAX), 1L << 16)); fd < n; ++fd) ::close(fd);
    execve(argv[0], argv.data(), envp.data());
    const char msg[] = "execve failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  if (opts.new_process_group) setpgid(pid, pid);  // also from the parent: no race with signal_group
  ::close(out);
  ::close(err);
  pid_ = pid;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void Subprocess::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

void Subprocess::signal_group(int sig) const {
  if (pid_ > 0) ::kill(-pid_, sig);
}

bool Subprocess::running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = decode_status(status);
    return false;
  }
  return true;
}

std::optional<int> Subprocess::wait_exit(std::chrono::milliseconds timeout) {
  wait_until([this] { return !running(); }, timeout, std::chrono::milliseconds(2));
  return exit_code_;
}

std::string Subprocess::stdout_text() const { return slurp(out_path_); }
std::string Subprocess::stderr_text() const { return slurp(err_path_); }

std::optional<std::string> Subprocess::wait_for_output(const std::regex& re, std::chrono::milliseconds timeout,
                                                       bool from_stderr) const {
  std::optional<std::string> found;
  wait_until(
      [&] {
        std::string text = from_stderr ? stderr_text() : stdout_text();
        std::smatch m;
        if (std::regex_search(text, m, re)) {
          found = m.size() > 1 ? m[1].str() : m[0].str();
          return true;
        }
        return false;
      },
      timeout, std::chrono::milliseconds(5));
  return found;
}

bool process_alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  return line[close + 2] != 'Z' && line[close + 2] != 'X';
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: bind failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string bin_path(const std::string& name) { return std::string(LIFELINE_BIN_DIR) + "/" + name; }

}  // namespace lifeline::testing
