// Cycle observers: what the daemon tells when a cycle ends, to whoever reports it. Prometheus (/metrics) is the
// first sink; a publisher to CloudWatch is another, doing its slow work off the loop (it copies what it needs here
// and returns). Called on the loop thread, once per cycle, in the order the observers were added.
#pragma once

#include <chrono>

#include "daemon/syncer.h"

namespace hasg::daemon {

struct CycleEnd {
  std::chrono::steady_clock::time_point started;  // when the cycle began (what it read is at least that new)
  double seconds = 0;                    // the cycle's duration
  const CycleReport* report = nullptr;   // null when the cycle failed
  const Error* error = nullptr;          // null when it succeeded
  bool discovery_ok = false;
};

class CycleObserver {
 public:
  virtual ~CycleObserver() = default;
  virtual void cycle_ended(const CycleEnd& end) = 0;
};

}  // namespace hasg::daemon
