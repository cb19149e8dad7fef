// judge_event: what the events listener does with each kind of message. Only messages about a configured group (or,
// for EC2's events that name no group, an instance last seen in one) wake a cycle; everything else is deleted at
// once with an outcome saying why, so nothing is retried forever.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/events.h"
#include "daemon/sqs_events.h"

namespace hasg::daemon {
namespace {

using core::EventKind;
using core::EventMessage;

const std::set<std::string> kGroups = {"app", "api"};
const std::set<std::string> kInstances = {"i-0aaa", "i-0bbb"};

EventMessage msg(EventKind kind, const std::string& group = "", const std::string& instance = "") {
  EventMessage m;
  m.kind = kind;
  m.group = group;
  m.instance_id = instance;
  return m;
}

void expect(const EventVerdict& v, bool wake, const std::string& outcome) {
  EXPECT_EQ(v.wake, wake) << outcome;
  EXPECT_EQ(v.outcome, outcome);
}

TEST(JudgeEvent, GroupEventsOfAConfiguredGroupTrigger) {
  for (EventKind k : {EventKind::LifecycleAction, EventKind::LaunchSuccessful, EventKind::TerminateSuccessful}) {
    SCOPED_TRACE(core::to_string(k));
    expect(judge_event(msg(k, "app", "i-0new"), kGroups, kInstances), true, "trigger");
    expect(judge_event(msg(k, "api", "i-0aaa"), kGroups, kInstances), true, "trigger");
    // The instance does not matter: a new one is not known yet, an old one may be gone (the cycle re-reads).
    expect(judge_event(msg(k, "app", ""), kGroups, kInstances), true, "trigger");
  }
}

TEST(JudgeEvent, GroupEventsOfAnotherGroupAreForeign) {
  for (EventKind k : {EventKind::LifecycleAction, EventKind::LaunchSuccessful, EventKind::TerminateSuccessful}) {
    SCOPED_TRACE(core::to_string(k));
    expect(judge_event(msg(k, "other", "i-0aaa"), kGroups, kInstances), false, "foreign");
    expect(judge_event(msg(k, "App", "i-0aaa"), kGroups, kInstances), false, "foreign");  // names are exact
    expect(judge_event(msg(k, "", "i-0aaa"), kGroups, kInstances), false, "foreign");
    expect(judge_event(msg(k, "app", "i-0aaa"), {}, kInstances), false, "foreign");
  }
}

TEST(JudgeEvent, Ec2EventsTriggerOnlyForInstancesLastSeenInAConfiguredGroup) {
  expect(judge_event(msg(EventKind::Ec2StateChange, "", "i-0aaa"), kGroups, kInstances), true, "trigger");
  expect(judge_event(msg(EventKind::Ec2StateChange, "", "i-0ccc"), kGroups, kInstances), false, "foreign");
  expect(judge_event(msg(EventKind::Ec2StateChange, "", "i-0aaa"), kGroups, {}), false, "foreign");
  // A group name in an EC2 event (never sent by AWS) does not make it ours.
  expect(judge_event(msg(EventKind::Ec2StateChange, "app", "i-0ccc"), kGroups, kInstances), false, "foreign");
}

TEST(JudgeEvent, TestUnknownAndMalformedMessagesNeverWake) {
  expect(judge_event(msg(EventKind::TestNotification, "app"), kGroups, kInstances), false, "test");
  expect(judge_event(msg(EventKind::TestNotification, "other"), kGroups, kInstances), false, "test");
  expect(judge_event(msg(EventKind::Unknown, "app", "i-0aaa"), kGroups, kInstances), false, "ignored");
  expect(judge_event(msg(EventKind::Malformed, "app", "i-0aaa"), kGroups, kInstances), false, "malformed");
}

// Parsed from the bodies AWS sends, as the listener does.
TEST(JudgeEvent, BodiesAsTheQueueDeliversThem) {
  auto judge = [](const std::string& body) { return judge_event(core::parse_event_message(body), kGroups, kInstances); };
  expect(judge(R"({"Service":"AWS Auto Scaling","LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING",)"
               R"("EC2InstanceId":"i-0aaa","LifecycleHookName":"drain","AutoScalingGroupName":"app",)"
               R"("LifecycleActionToken":"t"})"),
         true, "trigger");
  expect(judge(R"({"Service":"AWS Auto Scaling","LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING",)"
               R"("EC2InstanceId":"i-0aaa","LifecycleHookName":"drain","AutoScalingGroupName":"web"})"),
         false, "foreign");
  expect(judge(R"({"Event":"autoscaling:TEST_NOTIFICATION","AutoScalingGroupName":"app"})"), false, "test");
  expect(judge(R"({"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification",)"
               R"("detail":{"instance-id":"i-0bbb","state":"shutting-down"}})"),
         true, "trigger");
  expect(judge(R"({"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification",)"
               R"("detail":{"instance-id":"i-0zzz","state":"stopped"}})"),
         false, "foreign");
  expect(judge(R"({"source":"aws.autoscaling","detail-type":"EC2 Instance Launch Successful",)"
               R"("detail":{"AutoScalingGroupName":"api","EC2InstanceId":"i-0new"}})"),
         true, "trigger");
  expect(judge(R"({"source":"aws.s3","detail-type":"Object Created","detail":{}})"), false, "ignored");
  expect(judge("garbage {not json"), false, "malformed");
  expect(judge(""), false, "malformed");
  expect(judge(R"({"LifecycleHookName":"drain","AutoScalingGroupName":"app"})"), false, "malformed");
  // Inside an SNS envelope: judged by what it carries.
  nlohmann::json inner = {{"Event", "autoscaling:EC2_INSTANCE_TERMINATE"},
                          {"AutoScalingGroupName", "app"},
                          {"EC2InstanceId", "i-0aaa"}};
  expect(judge(nlohmann::json{{"Type", "Notification"}, {"Message", inner.dump()}}.dump()), true, "trigger");
}

}  // namespace
}  // namespace hasg::daemon
