// Small helpers for the monotonic clock the daemon measures durations with.
#pragma once

#include <chrono>

namespace hasg {

// Seconds elapsed on the steady clock since t (fractional; what logs and the status file print).
inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace hasg
