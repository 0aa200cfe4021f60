// The fake-prefect executable: prints where it listens, serves, and exits cleanly on SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/fakes/command_line.hpp"

extern char** environ;

namespace lifeline::fake_prefect {
namespace {

using namespace std::chrono_literals;

// The program with its stdout on a pipe.
class Program {
 public:
  explicit Program(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
  }
  ~Program() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // One line of stdout, waiting at most `timeout`.
  std::string read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (poll(&p, 1, static_cast<int>(std::max<long long>(1, left.count()))) <= 0) continue;
      char c = 0;
      if (read(out_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  // The exit status, waiting at most `timeout`; -1 if it did not exit.
  int wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      pollfd none{-1, 0, 0};
      poll(&none, 0, 5);  // poll interval of a deadline-bounded wait
    }
    return -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

TEST(FakePrefectMain, ServesUntilSigterm) {
  Program p({FAKE_PREFECT_EXE, "--listen", "127.0.0.1:0", "--latency", "1ms"});
  ASSERT_GT(p.pid(), 0);
  std::string line = p.read_line(10s);
  ASSERT_EQ(line.rfind("listening on 127.0.0.1:", 0), 0u) << line;
  int port = std::stoi(line.substr(line.rfind(':') + 1));
  httplib::Client cli("127.0.0.1", port);
  auto health = cli.Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->body, "true");
  auto run = cli.Post("/__fake/runs", R"({"state": "RUNNING"})", "application/json");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, 201);
  cli.stop();
  kill(p.pid(), SIGTERM);
  EXPECT_EQ(p.wait_exit(10s), 0);
}

TEST(FakePrefectMain, RejectsABadFlag) {
  Program p({FAKE_PREFECT_EXE, "--latency", "5"});
  EXPECT_EQ(p.wait_exit(10s), 2);
}

TEST(CommandLine, ParsesFlags) {
  std::string error;
  auto cl = parse_command_line({"--listen", "127.0.0.1:4200", "--latency", "1m30s", "--fail-rate", "0.25"}, error);
  ASSERT_TRUE(cl) << error;
  EXPECT_EQ(cl->options.port, 4200);
  EXPECT_EQ(cl->options.latency, 90s);
  EXPECT_DOUBLE_EQ(cl->options.fail_rate, 0.25);
  EXPECT_EQ(parse_command_line({"--api-key", "k"}, error)->options.authorization, "Bearer k");
  EXPECT_EQ(parse_command_line({"--auth-string", "a:b"}, error)->options.authorization, "Basic YTpi");
  EXPECT_FALSE(parse_command_line({"--fail-rate", "2"}, error));
  EXPECT_FALSE(parse_command_line({"--listen", "localhost"}, error));
  EXPECT_FALSE(parse_command_line({"--bogus", "1"}, error));
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("5"), std::nullopt);
  EXPECT_EQ(parse_duration("5d"), std::nullopt);
}

}  // namespace
}  // namespace lifeline::fake_prefect
