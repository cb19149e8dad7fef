#include "core/events.h"

#include <nlohmann/json.hpp>

#include "core/aws_values.h"


namespace hasg::core {

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::TestNotification: return "test-notification";
    case EventKind::LifecycleAction: return "lifecycle-action";
    case EventKind::LaunchSuccessful: return "launch-successful";
    case EventKind::TerminateSuccessful: return "terminate-successful";
    case EventKind::Ec2StateChange: return "ec2-state-change";
    case EventKind::Unknown: return "unknown";
    case EventKind::Malformed: return "malformed";
  }
  return "unknown";
}

namespace {

using nlohmann::json;

// SQS bodies are at most 1 MiB; anything larger is not an AWS event.
constexpr size_t kMaxBody = 1 << 20;

// Reads string fields of one object, remembering the first one that is present with another type.
class Fields {
 public:
  explicit Fields(const json& obj) : obj_(obj) {}
  // The field's text; "" when absent or null.
  std::string str(const char* key) {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return {};
    if (!it->is_string()) {
      if (bad_.empty()) bad_ = key;
      return {};
    }
    return it->get<std::string>();
  }
  bool has(const char* key) const { return obj_.contains(key); }
  const std::string& bad_field() const { return bad_; }

 private:
  const json& obj_;
  std::string bad_;
};

EventMessage with(EventKind kind, std::string reason) {
  EventMessage m;
  m.kind = kind;
  m.reason = std::move(reason);
  return m;
}

EventMessage wrong_type(const std::string& what, const std::string& field) {
  return with(EventKind::Malformed, what + ": field " + field + " is not a string");
}

// A value from the message as the log line shows it: shortened, control characters escaped. A message is outside
// input: a newline in an instance id must not start a log line of its own.
std::string v(const std::string& s) { return printable(s, 80); }

// Quotes a value from the message for the log.
std::string q(const std::string& s) { return "'" + v(s) + "'"; }

EventMessage lifecycle_action(Fields& f, const std::string& what, const std::string& default_transition) {
  EventMessage m;
  m.kind = EventKind::LifecycleAction;
  m.group = f.str("AutoScalingGroupName");
  m.instance_id = f.str("EC2InstanceId");
  m.hook = f.str("LifecycleHookName");
  m.transition = f.str("LifecycleTransition");
  m.token = f.str("LifecycleActionToken");
  if (!f.bad_field().empty()) return wrong_type(what, f.bad_field());
  if (m.transition.empty()) m.transition = default_transition;
  if (m.group.empty() || m.instance_id.empty() || m.hook.empty())
    return with(EventKind::Malformed, what + " without AutoScalingGroupName, EC2InstanceId or LifecycleHookName");
  if (m.transition != kLaunchingTransition && m.transition != kTerminatingTransition)
    return with(EventKind::Unknown, what + " with an unknown transition " + q(m.transition));
  m.reason = what + ": " + v(m.instance_id) + " of group " + v(m.group) + " waits on hook " + v(m.hook) + " (" +
             m.transition + ")";
  return m;
}

EventMessage instance_event(Fields& f, EventKind kind, const std::string& what, const char* id_key) {
  EventMessage m;
  m.kind = kind;
  m.group = f.str("AutoScalingGroupName");
  m.instance_id = f.str(id_key);
  if (!f.bad_field().empty()) return wrong_type(what, f.bad_field());
  if (m.instance_id.empty() || (kind != EventKind::Ec2StateChange && m.group.empty()))
    return with(EventKind::Malformed,
                what + " without " +
                    (kind == EventKind::Ec2StateChange ? std::string(id_key)
                                                       : "AutoScalingGroupName or " + std::string(id_key)));
  m.reason = what + ": " + v(m.instance_id) + (m.group.empty() ? "" : " of group " + v(m.group));
  return m;
}

EventMessage eventbridge(const json& event) {
  Fields top(event);
  std::string source = top.str("source"), type = top.str("detail-type");
  if (!top.bad_field().empty()) return wrong_type("EventBridge event", top.bad_field());
  auto detail_it = event.find("detail");
  const std::string what = "EventBridge " + q(type) + " from " + q(source);
  if (detail_it == event.end() || !detail_it->is_object())
    return with(EventKind::Malformed, what + " without a detail object");
  Fields d(*detail_it);
  if (source == "aws.autoscaling") {
    if (type == "EC2 Instance-launch Lifecycle Action")
      return lifecycle_action(d, "EventBridge launch lifecycle action", std::string(kLaunchingTransition));
    if (type == "EC2 Instance-terminate Lifecycle Action")
      return lifecycle_action(d, "EventBridge terminate lifecycle action", std::string(kTerminatingTransition));
    if (type == "EC2 Instance Launch Successful")
      return instance_event(d, EventKind::LaunchSuccessful, "EventBridge launch successful", "EC2InstanceId");
    if (type == "EC2 Instance Terminate Successful")
      return instance_event(d, EventKind::TerminateSuccessful, "EventBridge terminate successful", "EC2InstanceId");
  } else if (source == "aws.ec2" && type == "EC2 Instance State-change Notification") {
    EventMessage m = instance_event(d, EventKind::Ec2StateChange, "EC2 state change", "instance-id");
    if (m.kind != EventKind::Ec2StateChange) return m;
    m.ec2_state = d.str("state");
    if (!d.bad_field().empty()) return wrong_type("EC2 state change", d.bad_field());
    if (m.ec2_state.empty())
      return with(EventKind::Malformed, "EC2 state change of " + v(m.instance_id) + " without state");
    m.reason += " is " + v(m.ec2_state);
    return m;
  }
  return with(EventKind::Unknown, what + ": not an event haproxy-asg acts on");
}

// Auto Scaling's own messages to SQS (lifecycle hooks) and SNS (group notifications).
EventMessage autoscaling(const json& msg) {
  Fields f(msg);
  std::string event = f.str("Event");
  if (!f.bad_field().empty()) return wrong_type("Auto Scaling notification", f.bad_field());
  if (event == "autoscaling:TEST_NOTIFICATION") {
    EventMessage m = with(EventKind::TestNotification, "");
    m.group = f.str("AutoScalingGroupName");
    if (!f.bad_field().empty()) return wrong_type("Auto Scaling test notification", f.bad_field());
    m.reason = "Auto Scaling test notification" + (m.group.empty() ? std::string() : " for group " + v(m.group));
    return m;
  }
  if (event == "autoscaling:EC2_INSTANCE_LAUNCH")
    return instance_event(f, EventKind::LaunchSuccessful, "Auto Scaling launch notification", "EC2InstanceId");
  if (event == "autoscaling:EC2_INSTANCE_TERMINATE")
    return instance_event(f, EventKind::TerminateSuccessful, "Auto Scaling terminate notification", "EC2InstanceId");
  if (!event.empty()) return with(EventKind::Unknown, "Auto Scaling notification " + q(event) + ": nothing to do");
  return lifecycle_action(f, "Auto Scaling lifecycle action", "");
}

EventMessage classify(const json& msg, bool inside_sns) {
  if (!msg.is_object()) return with(EventKind::Malformed, "not a JSON object");
  Fields f(msg);
  std::string type = f.str("Type");
  if (!f.bad_field().empty()) return wrong_type("message", f.bad_field());
  if (type == "Notification" && msg.contains("Message")) {
    if (inside_sns) return with(EventKind::Unknown, "an SNS notification inside an SNS notification");
    std::string inner = f.str("Message");
    if (!f.bad_field().empty()) return wrong_type("SNS notification", f.bad_field());
    if (inner.empty()) return with(EventKind::Malformed, "SNS notification without a Message");
    json parsed = json::parse(inner, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return with(EventKind::Malformed, "SNS notification whose Message is not JSON");
    EventMessage m = classify(parsed, true);
    m.via_sns = true;
    m.reason += " (via SNS)";
    return m;
  }
  if (type == "SubscriptionConfirmation" || type == "UnsubscribeConfirmation")
    return with(EventKind::Unknown, "SNS " + v(type) + ": confirm or remove the queue's subscription to the topic");
  if (msg.contains("detail-type") || msg.contains("source")) return eventbridge(msg);
  if (msg.contains("Event") || msg.contains("LifecycleTransition") || msg.contains("LifecycleHookName"))
    return autoscaling(msg);
  return with(EventKind::Unknown, "a JSON message of no known shape");
}

}  // namespace

EventMessage parse_event_message(std::string_view body) {
  if (body.size() > kMaxBody)
    return with(EventKind::Malformed, "a message of " + std::to_string(body.size()) + " bytes (at most 1 MiB)");
  try {
    json msg = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (msg.is_discarded()) return with(EventKind::Malformed, "not JSON");
    return classify(msg, false);
  } catch (const std::exception& e) {
    // parse() reports errors by value, and every access above checks types; this is the last line, for
    // allocation failures.
    return with(EventKind::Malformed, std::string("unreadable message: ") + e.what());
  }
}

}  // namespace hasg::core
