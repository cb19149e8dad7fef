// The drain watch: while servers drain, a cheap look at only their backends' sessions (`show stat BACKEND 4 -1`)
// every `period` (200 ms), so that a drain's end wakes a cycle within a fraction of a second of the last response
// instead of at the next interval. It also wakes the loop when a drain's timeout passes, and when a server held
// for the launch hook passed its check (`show servers state` of its backend). It decides nothing: a wake only makes
// the planner look.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/types.h"
#include "daemon/event_source.h"

namespace hasg::daemon {

class DrainWatch : public EventSource {
 public:
  explicit DrainWatch(std::string runtime_socket, std::chrono::milliseconds period = std::chrono::milliseconds(200));
  ~DrainWatch() override;

  const char* name() const override { return "drain watch"; }
  Status start(WakeFn wake) override;
  void stop() override;

  // The servers draining now ("backend/server") and when each one's drain timeout ends. Called after each cycle;
  // replaces what was watched.
  // `gated`: servers held out of rotation until their first passed check ("backend/server"). A server it woke a
  // cycle for is not woken for again while still watched, unless in `rearm` (the cycle saw it still busy).
  void watch(std::map<std::string, core::TimePoint> deadlines, std::set<std::string> gated = {},
             const std::set<std::string>& rearm = {});
  void set_socket(std::string runtime_socket);

 private:
  void loop();

  std::chrono::milliseconds period_;
  WakeFn wake_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string socket_;
  std::map<std::string, core::TimePoint> watched_;
  std::set<std::string> gated_;
  std::set<std::string> woken_;  // watched servers a cycle was already woken for
  std::thread thread_;
};

}  // namespace hasg::daemon
