#include "reaper/reap/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace lifeline::reaper::reap {
namespace {

Duration spread(double ms, double fraction, double unit_sample) {
  const double u = std::clamp(unit_sample, 0.0, 1.0);
  const double f = std::clamp(fraction, 0.0, 1.0);
  const double out = ms * (1.0 + f * (2.0 * u - 1.0));
  return Duration{static_cast<Duration::rep>(std::llround(std::max(0.0, out)))};
}

}  // namespace

Duration retry_delay(const EffectivePolicy& p, int attempt, double unit_sample) {
  const int n = std::max(1, attempt);
  double ms = static_cast<double>(p.delay.count()) * std::pow(std::max(1.0, p.multiplier), n - 1);
  if (!std::isfinite(ms)) ms = static_cast<double>(p.max_delay.count());
  ms = std::min(ms, static_cast<double>(p.max_delay.count()));
  return spread(ms, p.jitter, unit_sample);
}

Duration transient_delay(int failures, Duration base, Duration cap, double unit_sample) {
  const int n = std::clamp(failures, 1, 30);
  double ms = static_cast<double>(base.count()) * std::pow(2.0, n - 1);
  ms = std::min(ms, static_cast<double>(cap.count()));
  return spread(ms, 0.2, unit_sample);
}

}  // namespace lifeline::reaper::reap
