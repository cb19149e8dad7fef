#include "core/types.h"

#include <algorithm>

namespace hasg::core {

TimePoint anchored_now(TimePoint wall_at_anchor, std::chrono::steady_clock::time_point steady_at_anchor,
                       std::chrono::steady_clock::time_point steady_now) {
  return wall_at_anchor + std::chrono::duration_cast<Clock::duration>(steady_now - steady_at_anchor);
}

Clock::time_point Clock::now() noexcept {
  struct Anchor {
    TimePoint wall = std::chrono::system_clock::now();
    std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::now();
  };
  static const Anchor anchor;
  return anchored_now(anchor.wall, anchor.steady, std::chrono::steady_clock::now());
}

void classify(Member& m, bool described) {
  m.served = false;
  if (m.lifecycle_state != "InService") {
    m.not_served_reason = "lifecycle state " + m.lifecycle_state;
  } else if (!described) {
    m.not_served_reason = "not listed by EC2";
  } else if (m.instance_state != "running") {
    m.not_served_reason = "instance " + m.instance_state;
  } else if (m.private_ipv4.empty() && m.ipv6.empty()) {
    m.not_served_reason = "no private address";
  } else {
    m.served = true;
    m.not_served_reason.clear();
  }
}

bool wants_description(const std::string& lifecycle_state) {
  return lifecycle_state == "InService" || lifecycle_state == "Pending:Wait";
}

bool is_leaving(const std::string& s) {
  return s.starts_with("Terminating") || s == "Detaching" || s == "EnteringStandby" || s == "Standby" ||
         s.starts_with("Warmed:");
}

bool is_arriving(const std::string& s) { return s == "Pending" || s == "Pending:Wait" || s == "Pending:Proceed"; }

bool waits_on_terminate_hook(const std::string& s) { return s == "Terminating:Wait" || s == "Warmed:Terminating:Wait"; }

bool waits_on_launch_hook(const std::string& s) { return s == "Pending:Wait" || s == "Warmed:Pending:Wait"; }

bool missing_description(const Member& m) { return m.lifecycle_state == "InService" && m.instance_state.empty(); }

std::chrono::milliseconds heartbeat_every(std::chrono::milliseconds heartbeat_timeout) {
  return std::max<std::chrono::milliseconds>(heartbeat_timeout / 3, std::chrono::seconds(1));
}

std::string server_key(const std::string& backend, const std::string& server) { return backend + "/" + server; }

std::string endpoint(const std::string& address, int port) {
  bool ipv6 = address.find(':') != std::string::npos && !address.starts_with("[");
  return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::Add: return "add";
    case OpKind::Enable: return "enable";
    case OpKind::SetAddress: return "set-address";
    case OpKind::Drain: return "drain";
    case OpKind::Remove: return "remove";
    case OpKind::CompleteLifecycle: return "complete-lifecycle";
    case OpKind::Heartbeat: return "heartbeat";
    case OpKind::ReportUnhealthy: return "report-unhealthy";
    case OpKind::RecordDrained: return "record-drained";
  }
  return "?";
}

const char* to_string(AdminState s) {
  switch (s) {
    case AdminState::Ready: return "ready";
    case AdminState::Drain: return "drain";
    case AdminState::Maint: return "maint";
  }
  return "?";
}

}  // namespace hasg::core
