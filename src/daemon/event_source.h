// The one wake-up seam of the daemon's loop. The interval timer is the loop's own wait; anything else that should
// make a cycle run now (an SQS listener, the drain watch) is an EventSource: the daemon starts it with a wake
// callback and stops it before it exits. Waking only asks for a cycle: the cycle reads the current state itself,
// so a duplicate or late wake costs one cycle and changes nothing else; wakes that arrive before the loop gets to
// them coalesce into one cycle.
#pragma once

#include <functional>
#include <string>

#include "util/result.h"

namespace hasg::daemon {

// Asks for a cycle as soon as possible; `reason` is logged with the cycle. Safe from any thread.
using WakeFn = std::function<void(const std::string& reason)>;

class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual const char* name() const = 0;
  // Starts the source (e.g. its own thread). An Error stops the daemon's start-up with that message.
  virtual Status start(WakeFn wake) = 0;
  // Stops it and waits until it no longer calls `wake`.
  virtual void stop() = 0;
};

}  // namespace hasg::daemon
