// What an event message from the events queue (SQS) says, as a pure value: no I/O, never throws. The events
// listener only wakes the loop with it (events are triggers, never truth: the cycle re-reads state), and logs
// `reason`.
//
// Understood, as AWS sends them:
// - Auto Scaling lifecycle hook notifications sent to SQS: Service, LifecycleTransition, LifecycleActionToken,
//   EC2InstanceId, LifecycleHookName, AutoScalingGroupName; and the test message a notification target gets,
//   "Event": "autoscaling:TEST_NOTIFICATION".
// - Auto Scaling's group notifications (Event "autoscaling:EC2_INSTANCE_LAUNCH" or
//   "autoscaling:EC2_INSTANCE_TERMINATE").
// - EventBridge events (fields in "detail"): source "aws.autoscaling", detail-type "EC2 Instance-launch Lifecycle
//   Action", "EC2 Instance-terminate Lifecycle Action", "EC2 Instance Launch Successful", "EC2 Instance Terminate
//   Successful"; source "aws.ec2", detail-type "EC2 Instance State-change Notification" (detail.instance-id,
//   detail.state).
// - Any of those inside an SNS envelope ("Type": "Notification", "Message": the JSON text), unwrapped once.
#pragma once

#include <string>
#include <string_view>

namespace hasg::core {

enum class EventKind {
  TestNotification,     // a notification target's test message: nothing to do
  LifecycleAction,      // an instance waits on a lifecycle hook (Pending:Wait or Terminating:Wait)
  LaunchSuccessful,     // an instance was launched into the group
  TerminateSuccessful,  // an instance was terminated
  Ec2StateChange,       // an instance's EC2 state changed
  Unknown,              // valid, but not a message haproxy-asg acts on (another event, another source)
  Malformed,            // not JSON, or a known shape with a missing field or a field of the wrong type
};
const char* to_string(EventKind k);

inline constexpr std::string_view kLaunchingTransition = "autoscaling:EC2_INSTANCE_LAUNCHING";
inline constexpr std::string_view kTerminatingTransition = "autoscaling:EC2_INSTANCE_TERMINATING";

struct EventMessage {
  EventKind kind = EventKind::Unknown;
  std::string group;        // AutoScalingGroupName
  std::string instance_id;  // EC2InstanceId, or detail.instance-id for EC2 events
  std::string hook;         // LifecycleHookName (LifecycleAction)
  std::string transition;   // kLaunchingTransition or kTerminatingTransition (LifecycleAction)
  std::string token;        // LifecycleActionToken (LifecycleAction; may be empty)
  std::string ec2_state;    // detail.state (Ec2StateChange): "pending", "running", "stopping", "stopped", ...
  bool via_sns = false;     // unwrapped from an SNS envelope
  std::string reason;       // one line for the log: what it was, or why it was not understood

  bool operator==(const EventMessage&) const = default;
};

// Classifies one message body. Never throws; anything it cannot read is Malformed or Unknown with a reason.
EventMessage parse_event_message(std::string_view body);

}  // namespace hasg::core
