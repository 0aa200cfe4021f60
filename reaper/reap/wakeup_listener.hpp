#pragma once
// A dedicated database connection that LISTENs on channel `lifeline_wakeup`, so the release
// path (NOTIFY lifeline_wakeup) wakes the reap scheduler at once instead of at its next tick.
// The scheduler polls socket() together with its own wake-up fd.
// Thread-safety: not thread-safe; owned by the scheduler thread.

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "shared/result.hpp"

namespace lifeline::reaper::reap {

inline constexpr const char* kWakeupChannel = "lifeline_wakeup";

class WakeupListener {
 public:
  static Result<WakeupListener> connect(const std::string& url);

  int socket() const;
  bool healthy() const;
  // Reads what arrived; true when at least one notification was among it.
  bool drain();

 private:
  explicit WakeupListener(PGconn* c) : conn_(c, &PQfinish) {}
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_{nullptr, &PQfinish};
};

}  // namespace lifeline::reaper::reap
