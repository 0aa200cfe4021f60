#pragma once
// Real processes for end-to-end tests. A Subprocess is started in its own process
// group (a "pod"); its stdout and stderr go to files that tests can search.
// Thread-safety: one owner thread.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace lifeline::testing {

class Subprocess {
 public:
  struct Options {
    std::vector<std::string> argv;             // argv[0] is the program path
    std::map<std::string, std::string> env;    // added to (or replacing) the parent's
    std::vector<std::string> unset_env;        // removed from the environment
    bool new_process_group = true;
    std::string log_prefix;                    // files: <tmp>/<prefix>.out/.err
  };
  explicit Subprocess(Options opts);  // starts it; throws on fork/exec failure
  ~Subprocess();                      // SIGKILLs the group if still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;        // to the process
  void signal_group(int sig) const;  // to its whole process group
  // Waits for the exit; returns the wait status decoded (exit code, or 128+signal).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();
  std::optional<int> exit_code() const { return exit_code_; }

  std::string stdout_text() const;
  std::string stderr_text() const;
  // Waits until stdout (or stderr with `from_stderr`) matches `re`; returns the match's
  // first capture group (or the whole match).
  std::optional<std::string> wait_for_output(const std::regex& re, std::chrono::milliseconds timeout,
                                             bool from_stderr = false) const;
  const std::string& stdout_path() const { return out_path_; }
  const std::string& stderr_path() const { return err_path_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string out_path_, err_path_;
};

// True when a process with `pid` exists (and is not a zombie).
bool process_alive(pid_t pid);

// A free TCP port on 127.0.0.1 (bound and released; tiny race accepted in tests).
std::uint16_t free_port();

// Path of a built program (build/bin/<name>), from the LIFELINE_BIN_DIR definition.
std::string bin_path(const std::string& name);

}  // namespace lifeline::testing
