#pragma once
// lifeline-reaper replicas on one database, in numbered slots: each slot can be SIGKILLed
// (a replica vanishing at an arbitrary instruction) and started again (a new process on a
// new port). Killed processes are kept so their logs remain evidence. The heartbeat fleet
// is told the live ports after every change.
// Thread-safety: one owner thread.

#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/processes.hpp"
#include "tests/faults/reaper/heartbeat_fleet.hpp"

namespace lifeline::faults {

class ReaperGroup {
 public:
  // `slots` slots, the first `running` of them started (all when -1); throws when a
  // reaper does not start serving.
  ReaperGroup(testing::ReaperProcess::Settings base, int slots, HeartbeatFleet* fleet, int running = -1);
  ~ReaperGroup();

  int size() const { return static_cast<int>(slots_.size()); }
  bool running(int slot) const { return slots_[slot] != nullptr; }
  testing::ReaperProcess& at(int slot) { return *slots_[slot]; }
  void kill(int slot);   // SIGKILL and wait for the exit
  void start(int slot);  // a new process in an empty slot
  std::vector<std::uint16_t> ports() const;
  int started() const { return generation_; }
  // Lines of every reaper's log (killed ones too) containing `needle`, at most `max`.
  std::vector<std::string> log_lines(const std::string& needle, int max) const;
  std::vector<std::string> log_paths() const;

 private:
  void publish();
  testing::ReaperProcess::Settings base_;
  HeartbeatFleet* fleet_;
  std::vector<std::unique_ptr<testing::ReaperProcess>> slots_;
  std::vector<std::unique_ptr<testing::ReaperProcess>> killed_;
  int generation_ = 0;
};

}  // namespace lifeline::faults
