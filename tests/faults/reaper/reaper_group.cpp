#include "tests/faults/reaper/reaper_group.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <stdexcept>

namespace lifeline::faults {

ReaperGroup::ReaperGroup(testing::ReaperProcess::Settings base, int slots, HeartbeatFleet* fleet, int running)
    : base_(std::move(base)), fleet_(fleet), slots_(static_cast<std::size_t>(slots)) {
  for (int i = 0; i < (running < 0 ? slots : running); ++i) start(i);
}

ReaperGroup::~ReaperGroup() {
  // The heartbeaters must not chase reapers that are draining.
  if (fleet_ != nullptr) fleet_->set_targets({});
}

void ReaperGroup::kill(int slot) {
  auto& p = slots_[slot];
  if (!p) return;
  p->process().signal(SIGKILL);
  if (!p->process().wait_exit(std::chrono::seconds(10)))
    throw std::runtime_error("a SIGKILLed reaper did not exit within 10 s");
  killed_.push_back(std::move(p));
  publish();
}

void ReaperGroup::start(int slot) {
  if (slots_[slot]) throw std::logic_error("reaper slot already running");
  auto s = base_;
  s.name = base_.name + "-" + std::to_string(slot) + "-gen" + std::to_string(generation_++);
  slots_[slot] = std::make_unique<testing::ReaperProcess>(s);
  publish();
}

std::vector<std::uint16_t> ReaperGroup::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& p : slots_)
    if (p) out.push_back(p->port());
  return out;
}

void ReaperGroup::publish() {
  if (fleet_ != nullptr) fleet_->set_targets(ports());
}

std::vector<std::string> ReaperGroup::log_paths() const {
  std::vector<std::string> out;
  for (const auto* list : {&killed_, &slots_})
    for (const auto& p : *list)
      if (p) out.push_back(p->process().stderr_path());
  return out;
}

std::vector<std::string> ReaperGroup::log_lines(const std::string& needle, int max) const {
  std::vector<std::string> out;
  for (const auto& path : log_paths()) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line) && static_cast<int>(out.size()) < max)
      if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

}  // namespace lifeline::faults
