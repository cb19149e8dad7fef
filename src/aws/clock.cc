#include "aws/clock.h"

#include <thread>

namespace hasg::aws {

namespace {

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) const override { std::this_thread::sleep_for(d); }
};

}  // namespace

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace hasg::aws
