// The event messages the events queue carries, classified without I/O: real-shaped samples (as the AWS
// documentation shows them) and hostile ones, which must never throw.
#include "core/events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hasg::core {
namespace {

// Auto Scaling -> SQS lifecycle hook notification (Auto Scaling user guide).
constexpr const char* kHookLaunching = R"({
  "Origin": "EC2",
  "LifecycleHookName": "my-launch-hook",
  "Destination": "AutoScalingGroup",
  "AccountId": "123456789012",
  "RequestId": "4dc8a5e9-ec46-4eb0-8ce5-6d6e1fc4c8e6",
  "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
  "AutoScalingGroupName": "my-asg",
  "Service": "AWS Auto Scaling",
  "Time": "2021-01-19T00:36:26.533Z",
  "EC2InstanceId": "i-0598c7d356eba48d7",
  "LifecycleActionToken": "71514b9d-6a40-4b26-8523-05e7eEXAMPLE"
})";

constexpr const char* kTestNotification = R"({
  "AccountId": "123456789012",
  "RequestId": "74c6bd5e-6f46-4bd2-a8d0-ff1b0f2b0d5d",
  "AutoScalingGroupARN": "arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:042cba90-ad2f-431c-9b4d-6d9055bcc9fb:autoScalingGroupName/my-asg",
  "AutoScalingGroupName": "my-asg",
  "Service": "AWS Auto Scaling",
  "Event": "autoscaling:TEST_NOTIFICATION",
  "Time": "2021-01-19T00:35:52.359Z"
})";

// EventBridge (Auto Scaling user guide, "Amazon EventBridge event reference").
constexpr const char* kEbTerminateAction = R"({
  "version": "0",
  "id": "468fd5ab-0000-4000-8000-123456789012",
  "detail-type": "EC2 Instance-terminate Lifecycle Action",
  "source": "aws.autoscaling",
  "account": "123456789012",
  "time": "2021-01-13T00:12:37.214Z",
  "region": "us-west-2",
  "resources": ["arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:042cba90-ad2f-431c-9b4d-6d9055bcc9fb:autoScalingGroupName/my-asg"],
  "detail": {
    "LifecycleActionToken": "0befc5ea-5d7b-4ed2-9c5a-bc5b5b8d9b2b",
    "AutoScalingGroupName": "my-asg",
    "LifecycleHookName": "my-termination-hook",
    "EC2InstanceId": "i-0a12345678910a1b2",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
    "Origin": "AutoScalingGroup",
    "Destination": "EC2"
  }
})";

constexpr const char* kEbLaunchSuccessful = R"({
  "version": "0",
  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  "source": "aws.autoscaling",
  "account": "123456789012",
  "time": "2015-11-11T21:31:47Z",
  "region": "us-east-1",
  "resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/sampleLuanchSucASG",
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"],
  "detail": {
    "StatusCode": "InProgress",
    "AutoScalingGroupName": "sampleLuanchSucASG",
    "ActivityId": "9cabb81f-42de-417d-8aa7-ce16bf026590",
    "Details": {"Availability Zone": "us-east-1b", "Subnet ID": "subnet-95bfcebe"},
    "RequestId": "9cabb81f-42de-417d-8aa7-ce16bf026590",
    "EndTime": "2015-11-11T21:31:47.208Z",
    "EC2InstanceId": "i-b188560f",
    "StartTime": "2015-11-11T21:31:13.671Z",
    "Cause": "At 2015-11-11T21:31:10Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 1."
  }
})";

constexpr const char* kEbTerminateSuccessful = R"({
  "version": "0", "id": "cb6e0f0d-0000-4000-8000-000000000000",
  "detail-type": "EC2 Instance Terminate Successful", "source": "aws.autoscaling",
  "account": "123456789012", "time": "2015-11-11T21:36:57Z", "region": "us-east-1", "resources": [],
  "detail": {"StatusCode": "InProgress", "Description": "Terminating EC2 instance: i-0b1c2d3e4f5a6b7c8",
             "AutoScalingGroupName": "my-asg", "EC2InstanceId": "i-0b1c2d3e4f5a6b7c8", "Details": {}}
})";

// EC2 (EC2 user guide, "EC2 instance state-change events").
constexpr const char* kEc2StateChange = R"({
  "id": "7bf73129-1428-4cd3-a780-95db273d1602",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "123456789012",
  "time": "2021-11-11T21:29:54Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
  "detail": {"instance-id": "i-abcd1111", "state": "stopping"}
})";

std::string sns(const std::string& inner) {
  nlohmann::json env = {
      {"Type", "Notification"},
      {"MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"},
      {"TopicArn", "arn:aws:sns:us-west-2:123456789012:my-topic"},
      {"Subject", "Auto Scaling:  Lifecycle action 'TERMINATING' for instance i-0a12345678910a1b2 in progress."},
      {"Message", inner},
      {"Timestamp", "2021-01-13T00:12:37.214Z"},
      {"SignatureVersion", "1"},
      {"Signature", "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q="},
      {"SigningCertURL", "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"},
      {"UnsubscribeURL", "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:my-topic:c9135db0-26c4-47ec-8998-413945fb5a96"}};
  return env.dump();
}

TEST(ParseEventMessage, HookNotification) {
  EventMessage m = parse_event_message(kHookLaunching);
  EXPECT_EQ(m.kind, EventKind::LifecycleAction) << m.reason;
  EXPECT_EQ(m.group, "my-asg");
  EXPECT_EQ(m.instance_id, "i-0598c7d356eba48d7");
  EXPECT_EQ(m.hook, "my-launch-hook");
  EXPECT_EQ(m.transition, kLaunchingTransition);
  EXPECT_EQ(m.token, "71514b9d-6a40-4b26-8523-05e7eEXAMPLE");
  EXPECT_FALSE(m.via_sns);
  EXPECT_NE(m.reason.find("i-0598c7d356eba48d7"), std::string::npos) << m.reason;
}

TEST(ParseEventMessage, TestNotification) {
  EventMessage m = parse_event_message(kTestNotification);
  EXPECT_EQ(m.kind, EventKind::TestNotification);
  EXPECT_EQ(m.group, "my-asg");
  EXPECT_TRUE(m.instance_id.empty());
}

TEST(ParseEventMessage, EventBridgeLifecycleAction) {
  EventMessage m = parse_event_message(kEbTerminateAction);
  EXPECT_EQ(m.kind, EventKind::LifecycleAction) << m.reason;
  EXPECT_EQ(m.group, "my-asg");
  EXPECT_EQ(m.instance_id, "i-0a12345678910a1b2");
  EXPECT_EQ(m.hook, "my-termination-hook");
  EXPECT_EQ(m.transition, kTerminatingTransition);
  EXPECT_EQ(m.token, "0befc5ea-5d7b-4ed2-9c5a-bc5b5b8d9b2b");

  // The transition follows from the detail-type when the detail leaves it out.
  auto j = nlohmann::json::parse(kEbTerminateAction);
  j["detail"].erase("LifecycleTransition");
  j["detail-type"] = "EC2 Instance-launch Lifecycle Action";
  EXPECT_EQ(parse_event_message(j.dump()).transition, kLaunchingTransition);
}

TEST(ParseEventMessage, EventBridgeLaunchAndTerminateSuccessful) {
  EventMessage l = parse_event_message(kEbLaunchSuccessful);
  EXPECT_EQ(l.kind, EventKind::LaunchSuccessful) << l.reason;
  EXPECT_EQ(l.group, "sampleLuanchSucASG");
  EXPECT_EQ(l.instance_id, "i-b188560f");
  EventMessage t = parse_event_message(kEbTerminateSuccessful);
  EXPECT_EQ(t.kind, EventKind::TerminateSuccessful) << t.reason;
  EXPECT_EQ(t.group, "my-asg");
  EXPECT_EQ(t.instance_id, "i-0b1c2d3e4f5a6b7c8");
}

TEST(ParseEventMessage, Ec2StateChange) {
  EventMessage m = parse_event_message(kEc2StateChange);
  EXPECT_EQ(m.kind, EventKind::Ec2StateChange) << m.reason;
  EXPECT_EQ(m.instance_id, "i-abcd1111");
  EXPECT_EQ(m.ec2_state, "stopping");
  EXPECT_TRUE(m.group.empty());
  EXPECT_NE(m.reason.find("stopping"), std::string::npos);
}

TEST(ParseEventMessage, AutoScalingGroupNotifications) {
  EventMessage l = parse_event_message(
      R"({"Service":"AWS Auto Scaling","Event":"autoscaling:EC2_INSTANCE_LAUNCH","AutoScalingGroupName":"my-asg",
          "EC2InstanceId":"i-1","Description":"Launching a new EC2 instance: i-1"})");
  EXPECT_EQ(l.kind, EventKind::LaunchSuccessful);
  EXPECT_EQ(l.instance_id, "i-1");
  EventMessage t = parse_event_message(
      R"({"Service":"AWS Auto Scaling","Event":"autoscaling:EC2_INSTANCE_TERMINATE","AutoScalingGroupName":"my-asg",
          "EC2InstanceId":"i-2"})");
  EXPECT_EQ(t.kind, EventKind::TerminateSuccessful);
  EventMessage e = parse_event_message(
      R"({"Service":"AWS Auto Scaling","Event":"autoscaling:EC2_INSTANCE_LAUNCH_ERROR","AutoScalingGroupName":"my-asg"})");
  EXPECT_EQ(e.kind, EventKind::Unknown);
  EXPECT_NE(e.reason.find("EC2_INSTANCE_LAUNCH_ERROR"), std::string::npos);
}

TEST(ParseEventMessage, SnsEnvelopeUnwrapped) {
  for (const char* inner : {kHookLaunching, kEbTerminateAction, kTestNotification, kEc2StateChange}) {
    EventMessage direct = parse_event_message(inner);
    EventMessage wrapped = parse_event_message(sns(inner));
    EXPECT_TRUE(wrapped.via_sns);
    EXPECT_EQ(wrapped.kind, direct.kind) << wrapped.reason;
    EXPECT_EQ(wrapped.instance_id, direct.instance_id);
    EXPECT_EQ(wrapped.token, direct.token);
    EXPECT_NE(wrapped.reason.find("via SNS"), std::string::npos);
  }
  // Only once: an envelope in an envelope is not an AWS event.
  EXPECT_EQ(parse_event_message(sns(sns(kHookLaunching))).kind, EventKind::Unknown);
  EXPECT_EQ(parse_event_message(sns("Service: AWS Auto Scaling\nEvent: whatever")).kind, EventKind::Malformed);
  EXPECT_EQ(parse_event_message(R"({"Type":"Notification","TopicArn":"t","Message":42})").kind, EventKind::Malformed);
  EXPECT_EQ(parse_event_message(
                R"({"Type":"SubscriptionConfirmation","TopicArn":"t","Message":"You have chosen to subscribe","SubscribeURL":"https://x"})")
                .kind,
            EventKind::Unknown);
}

TEST(ParseEventMessage, UnknownButValid) {
  for (const char* body :
       {R"({})", R"({"hello":"world"})",
        R"({"source":"aws.autoscaling","detail-type":"EC2 Instance Launch Unsuccessful","detail":{"EC2InstanceId":"i-1","AutoScalingGroupName":"g"}})",
        R"({"source":"aws.s3","detail-type":"Object Created","detail":{}})",
        R"({"LifecycleHookName":"h","AutoScalingGroupName":"g","EC2InstanceId":"i-1","LifecycleTransition":"autoscaling:EC2_INSTANCE_WARMING"})"}) {
    EventMessage m = parse_event_message(body);
    EXPECT_EQ(m.kind, EventKind::Unknown) << body << " -> " << m.reason;
    EXPECT_FALSE(m.reason.empty());
  }
}

TEST(ParseEventMessage, HostileInputNeverThrows) {
  std::string deep(100000, '[');
  std::string deep_obj;
  for (int i = 0; i < 20000; ++i) deep_obj += R"({"Message":)";
  const std::string cases[] = {
      "", " ", "null", "true", "42", "\"str\"", "[]", "[{}]", "{", "}", "{\"a\":}", "\xff\xfe{", deep, deep + "]",
      deep_obj, std::string("{\"Event\":\"a\0b\"}", 15),
      std::string(2 << 20, ' '),  // larger than any SQS message
      R"({"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"[\"}"})",
      R"({"source":"aws.autoscaling","detail-type":"EC2 Instance-launch Lifecycle Action","detail":[]})",
      R"({"source":"aws.autoscaling","detail-type":"EC2 Instance-launch Lifecycle Action"})",
      R"({"source":7,"detail-type":"x","detail":{}})",
      R"({"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{"instance-id":"i-1","state":{"name":"running"}}})",
      R"({"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{"instance-id":"i-1"}})",
      R"({"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{"state":"running"}})",
      R"({"LifecycleHookName":"h","AutoScalingGroupName":"g","EC2InstanceId":12345,"LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING"})",
      R"({"LifecycleHookName":"h","AutoScalingGroupName":["g"],"EC2InstanceId":"i-1","LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING"})",
      R"({"LifecycleHookName":"h","EC2InstanceId":"i-1","LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING"})",
      R"({"Event":{"x":1}})",
      R"({"Event":"autoscaling:EC2_INSTANCE_LAUNCH","AutoScalingGroupName":"g"})",
      R"({"Type":["Notification"],"Message":"{}"})",
  };
  for (const auto& body : cases) {
    EventMessage m;
    EXPECT_NO_THROW(m = parse_event_message(body)) << body.substr(0, 80);
    EXPECT_TRUE(m.kind == EventKind::Malformed || m.kind == EventKind::Unknown)
        << body.substr(0, 80) << " -> " << to_string(m.kind) << ": " << m.reason;
    EXPECT_FALSE(m.reason.empty()) << body.substr(0, 80);
    EXPECT_TRUE(m.instance_id.empty() || m.kind == EventKind::Unknown) << body.substr(0, 80);
  }
  // Wrong types are Malformed, naming the field.
  EventMessage m = parse_event_message(
      R"({"LifecycleHookName":"h","AutoScalingGroupName":"g","EC2InstanceId":12345,"LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING"})");
  EXPECT_EQ(m.kind, EventKind::Malformed);
  EXPECT_NE(m.reason.find("EC2InstanceId"), std::string::npos) << m.reason;
}

TEST(ParseEventMessage, ReasonQuotesAreShortAndSingleLine) {
  std::string long_type(500, 'x');
  EventMessage m = parse_event_message(R"({"source":"aws.autoscaling","detail-type":")" + long_type +
                                       R"(\n","detail":{}})");
  EXPECT_EQ(m.kind, EventKind::Unknown);
  EXPECT_LT(m.reason.size(), 250u);
  EXPECT_EQ(m.reason.find('\n'), std::string::npos);
}

// Found by the event_message fuzz target's invariant (fuzz/regressions/event_message/newline-in-instance-id.json):
// values outside the quotes went into the reason as they came, so a newline in an instance id, group, hook or state
// split the log line and could forge one.
TEST(ParseEventMessage, ReasonStaysOneLineWhateverTheFields) {
  const std::vector<std::string> bodies = {
      R"({"Event":"autoscaling:EC2_INSTANCE_LAUNCH","AutoScalingGroupName":"app",)"
      R"("EC2InstanceId":"i-0123456789abcdef0\nshutdown sessions server app/i-1"})",
      R"({"Event":"autoscaling:TEST_NOTIFICATION","AutoScalingGroupName":"app\r\nforged"})",
      R"({"LifecycleHookName":"h\n","AutoScalingGroupName":"g\u0000","EC2InstanceId":"i-1\t",)"
      R"("LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING"})",
      R"({"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification",)"
      R"("detail":{"instance-id":"i-1","state":"running\nforged"}})",
      R"({"Type":"SubscriptionConfirmation\nforged"})"};
  for (const auto& body : bodies) {
    EventMessage m = parse_event_message(body);
    EXPECT_FALSE(m.reason.empty()) << body;
    EXPECT_EQ(m.reason.find_first_of("\n\r\t", 0), std::string::npos) << body << " -> " << m.reason;
    EXPECT_EQ(m.reason.find('\0'), std::string::npos) << body;
  }
  EventMessage m = parse_event_message(bodies[0]);
  EXPECT_EQ(m.kind, EventKind::LaunchSuccessful);
  EXPECT_EQ(m.instance_id, "i-0123456789abcdef0\nshutdown sessions server app/i-1");  // the value itself is kept
  EXPECT_EQ(m.reason,
            "Auto Scaling launch notification: i-0123456789abcdef0\\x0ashutdown sessions server app/i-1 of group app");
}

TEST(EventKind, Names) {
  EXPECT_STREQ(to_string(EventKind::LifecycleAction), "lifecycle-action");
  EXPECT_STREQ(to_string(EventKind::Malformed), "malformed");
}

}  // namespace
}  // namespace hasg::core
