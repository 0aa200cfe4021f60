#include "tests/faults/reaper/heartbeat_fleet.hpp"

#include <httplib.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

namespace lifeline::faults {

HeartbeatFleet::HeartbeatFleet(Options options) : options_(std::move(options)) {
  for (int i = 0; i < options_.shards; ++i) shards_.push_back(std::make_unique<Shard>());
  for (int i = 0; i < options_.shards; ++i) shards_[i]->thread = std::thread([this, i] { run_shard(i); });
}

HeartbeatFleet::~HeartbeatFleet() { shutdown(); }

void HeartbeatFleet::shutdown() {
  if (stopping_.exchange(true)) return;
  for (auto& s : shards_) {
    { std::lock_guard lock(s->mu); }
    s->cv.notify_all();
  }
  for (auto& s : shards_)
    if (s->thread.joinable()) s->thread.join();
}

void HeartbeatFleet::set_targets(std::vector<std::uint16_t> ports) {
  {
    std::lock_guard lock(targets_mu_);
    targets_ = std::move(ports);
  }
  ++targets_version_;
  for (auto& s : shards_) s->cv.notify_all();
}

std::uint16_t HeartbeatFleet::target_for(int shard_index, int rotation) const {
  std::lock_guard lock(targets_mu_);
  if (targets_.empty()) return 0;
  return targets_[static_cast<std::size_t>(shard_index + rotation) % targets_.size()];
}

void HeartbeatFleet::add(const std::string& run, const std::string& holder, int ttl_seconds, int beats) {
  int shard_index = 0;
  {
    std::lock_guard lock(index_mu_);
    shard_index = next_shard_;
    next_shard_ = (next_shard_ + 1) % options_.shards;
  }
  Shard& s = *shards_[shard_index];
  std::size_t index = 0;
  {
    std::lock_guard lock(s.mu);
    Lease l;
    l.run = run;
    l.holder = holder;
    l.ttl_seconds = ttl_seconds;
    l.beats = beats;
    l.view.renewing = true;
    s.leases.push_back(std::move(l));
    index = s.leases.size() - 1;
    s.heap.push_back({Clock::now(), index});
    std::push_heap(s.heap.begin(), s.heap.end(), std::greater<>{});
  }
  {
    std::lock_guard lock(index_mu_);
    index_[run] = {shard_index, index};
  }
  s.cv.notify_all();
}

void HeartbeatFleet::stop_renewing(const std::string& run) {
  std::pair<int, std::size_t> where;
  {
    std::lock_guard lock(index_mu_);
    auto it = index_.find(run);
    if (it == index_.end()) return;
    where = it->second;
  }
  std::lock_guard lock(shards_[where.first]->mu);
  shards_[where.first]->leases[where.second].view.renewing = false;
}

std::optional<HeartbeatFleet::LeaseView> HeartbeatFleet::view(const std::string& run) const {
  std::pair<int, std::size_t> where;
  {
    std::lock_guard lock(index_mu_);
    auto it = index_.find(run);
    if (it == index_.end()) return std::nullopt;
    where = it->second;
  }
  std::lock_guard lock(shards_[where.first]->mu);
  return shards_[where.first]->leases[where.second].view;
}

HeartbeatFleet::Totals HeartbeatFleet::totals() const {
  return Totals{ok_.load(), stop_.load(), conflict_.load(), unavailable_.load(), no_answer_.load(), other_.load()};
}

int HeartbeatFleet::renewing_not_acked_since(Clock::time_point since) const {
  int n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    for (const auto& l : s->leases)
      if (l.beats == 0 && l.view.renewing && l.view.last_ack < since) ++n;
  }
  return n;
}

int HeartbeatFleet::size() const {
  std::lock_guard lock(index_mu_);
  return static_cast<int>(index_.size());
}

void HeartbeatFleet::run_shard(int shard_index) {
  Shard& s = *shards_[shard_index];
  std::unique_ptr<httplib::Client> client;
  std::uint16_t client_port = 0;
  int seen_version = -1;
  int rotation = 0;
  std::unique_lock lock(s.mu);
  while (!stopping_) {
    if (s.heap.empty()) {
      s.cv.wait(lock);
      continue;
    }
    const Due due = s.heap.front();
    if (due.at > Clock::now()) {
      s.cv.wait_until(lock, due.at);  // the schedule, not a condition: woken early by add/stop
      continue;
    }
    std::pop_heap(s.heap.begin(), s.heap.end(), std::greater<>{});
    s.heap.pop_back();
    Lease& lease = s.leases[due.index];
    if (!lease.view.renewing) continue;
    const std::string path = "/v1/leases/" + lease.run;
    const std::string body = nlohmann::json{{"holder", lease.holder},
                                            {"node", options_.node},
                                            {"ttl_seconds", lease.ttl_seconds},
                                            {"seq", ++lease.seq},
                                            {"phase", "running"}}
                                 .dump();
    lock.unlock();

    if (seen_version != targets_version_.load()) {
      seen_version = targets_version_.load();
      client.reset();
    }
    const std::uint16_t port = target_for(shard_index, rotation);
    if (!client || port != client_port) {
      client_port = port;
      client.reset();
      if (port != 0) {
        client = std::make_unique<httplib::Client>("127.0.0.1", port);
        client->set_keep_alive(true);
        client->set_tcp_nodelay(true);  // header and body are two writes: no 40 ms delayed-ACK stall
        client->set_connection_timeout(1, 0);
        client->set_read_timeout(options_.read_timeout_seconds, 0);
        client->set_write_timeout(2, 0);
      }
    }
    const auto sent = Clock::now();
    Answer answer = Answer::no_answer;
    std::string reason;
    if (client) {
      auto res = client->Put(path, body, "application/json");
      if (!res) {
        answer = Answer::no_answer;
      } else if (res->status == 200) {
        auto j = nlohmann::json::parse(res->body, nullptr, false);
        const std::string directive = j.is_object() ? j.value("directive", "") : "";
        answer = directive == "continue" ? Answer::ok : Answer::stop;
        if (answer == Answer::stop && j.is_object()) reason = j.value("reason", "");
      } else if (res->status == 409) {
        answer = Answer::conflict;
      } else if (res->status == 503) {
        answer = Answer::unavailable;
      } else {
        answer = Answer::other;
      }
    }
    if (answer == Answer::no_answer) {
      // This reaper is gone (killed, restarting): the next request goes to the next one.
      ++rotation;
      client.reset();
    }
    switch (answer) {
      case Answer::ok: ++ok_; break;
      case Answer::stop: ++stop_; break;
      case Answer::conflict: ++conflict_; break;
      case Answer::unavailable: ++unavailable_; break;
      case Answer::no_answer: ++no_answer_; break;
      case Answer::other: ++other_; break;
    }

    lock.lock();
    Lease& l = s.leases[due.index];  // the vector may have grown meanwhile
    Clock::time_point next = due.at + options_.interval;
    switch (answer) {
      case Answer::ok:
        if (l.view.acked > 0) l.view.max_gap = std::max(l.view.max_gap,
                                                        std::chrono::duration_cast<std::chrono::milliseconds>(
                                                            sent - l.view.last_ack));
        if (l.view.acked == 0) l.view.first_ack = sent;
        l.view.last_ack = sent;
        ++l.view.acked;
        if (l.beats > 0 && l.view.acked >= l.beats) l.view.renewing = false;
        break;
      case Answer::stop:
      case Answer::conflict:
        // The lease is no longer this holder's: a real sidecar stops its workload here.
        (answer == Answer::stop ? l.view.stops : l.view.conflicts)++;
        l.view.last_stop_reason = reason;
        l.view.renewing = false;
        break;
      default:
        ++l.view.failures;
        // A lease that was never acknowledged does not exist yet: try again soon.
        if (l.beats > 0 && l.view.acked == 0) next = Clock::now() + options_.retry_unleased;
        break;
    }
    if (l.view.renewing) {
      if (next < Clock::now()) next = Clock::now();  // fell behind (a slow answer): no burst to catch up
      s.heap.push_back({next, due.index});
      std::push_heap(s.heap.begin(), s.heap.end(), std::greater<>{});
    }
  }
}

}  // namespace lifeline::faults
