// The edge to the group's lifecycle: completing a hook's action, recording a heartbeat, what the planner needs to
// know of a hook (its heartbeat timeout), and reporting an instance Unhealthy. An interface, so the cycle is tested in memory as well as against the
// simulator and AWS.
#pragma once

#include <chrono>
#include <string>

#include "util/result.h"

namespace hasg::daemon {

class LifecycleControl {
 public:
  virtual ~LifecycleControl() = default;
  // CompleteLifecycleAction by instance id. An Error with code "NoActiveLifecycleAction" means there is no action
  // waiting (another balancer, an operator or the timeout completed it).
  virtual Status complete(const std::string& group, const std::string& hook, const std::string& instance,
                          const std::string& result) = 0;
  // RecordLifecycleActionHeartbeat by instance id; the same "NoActiveLifecycleAction" code.
  virtual Status heartbeat(const std::string& group, const std::string& hook, const std::string& instance) = 0;
  // The hook's HeartbeatTimeout, for the planner's heartbeats. Cached by the implementation; when it cannot be
  // read, the shortest timeout AWS allows (30 s), so that heartbeats are never late.
  virtual std::chrono::milliseconds heartbeat_timeout(const std::string& group, const std::string& hook) = 0;
  // SetInstanceHealth Unhealthy, respecting the group's health check grace period (health feedback).
  virtual Status report_unhealthy(const std::string& instance) = 0;
};

}  // namespace hasg::daemon
