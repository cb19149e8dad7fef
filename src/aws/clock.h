// Time as an edge: credential refresh, retries and signing read the clock through this, so tests can move it.
#pragma once

#include <chrono>

namespace hasg::aws {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds d) const = 0;
};

// The real clock; a process-wide instance.
const Clock& system_clock();

}  // namespace hasg::aws
