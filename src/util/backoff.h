// Exponential backoff with full jitter, the one rule for every retry in the daemon: AWS calls, the failed-cycle
// wait, the runtime API's retried `del server`. Full jitter as in
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/: a uniform time in
// [floor, min(cap, base * 2^attempt)], so many clients retrying together spread out instead of calling in step.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace hasg {

// min(cap, base * 2^attempt), attempt >= 0 (the exponent is clamped, so no overflow).
inline std::chrono::milliseconds backoff_ceiling(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                                 int attempt) {
  long long b = std::max<long long>(0, base.count());
  int shift = std::clamp(attempt, 0, 20);
  return std::chrono::milliseconds(std::min<long long>(cap.count(), b << shift));
}

// A uniform time in [floor, max(floor, backoff_ceiling(base, cap, attempt))].
template <typename Rng>
std::chrono::milliseconds full_jitter(std::chrono::milliseconds base, std::chrono::milliseconds cap, int attempt,
                                      Rng& rng, std::chrono::milliseconds floor = std::chrono::milliseconds(0)) {
  long long hi = std::max(backoff_ceiling(base, cap, attempt).count(), floor.count());
  std::uniform_int_distribution<long long> dist(floor.count(), hi);
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace hasg
