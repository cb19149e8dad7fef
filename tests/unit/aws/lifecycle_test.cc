// The Auto Scaling lifecycle calls: DescribeLifecycleHooks decoding, the shape of CompleteLifecycleAction and
// RecordLifecycleActionHeartbeat requests, and "no active lifecycle action" told apart from other errors.
#include <gtest/gtest.h>

#include "aws/autoscaling.h"
#include "aws/query_client.h"
#include "fakes.h"

namespace hasg::aws {
namespace {

using test::FakeClock;
using test::FakeHttpClient;
using test::find_header;

constexpr const char* kUrl = "https://autoscaling.us-west-2.amazonaws.com/";

// As the API reference shows it (elements in AWS's order, which is not the model's).
constexpr const char* kHooks = R"(<DescribeLifecycleHooksResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
  <DescribeLifecycleHooksResult>
    <LifecycleHooks>
      <member>
        <RoleARN>arn:aws:iam::123456789012:role/my-notification-role</RoleARN>
        <NotificationTargetARN>arn:aws:sqs:us-west-2:123456789012:my-queue</NotificationTargetARN>
        <GlobalTimeout>172800</GlobalTimeout>
        <LifecycleHookName>my-launch-hook</LifecycleHookName>
        <HeartbeatTimeout>3600</HeartbeatTimeout>
        <AutoScalingGroupName>my-asg</AutoScalingGroupName>
        <DefaultResult>ABANDON</DefaultResult>
        <LifecycleTransition>autoscaling:EC2_INSTANCE_LAUNCHING</LifecycleTransition>
      </member>
      <member>
        <GlobalTimeout>30000</GlobalTimeout>
        <LifecycleHookName>drain</LifecycleHookName>
        <HeartbeatTimeout>300</HeartbeatTimeout>
        <AutoScalingGroupName>my-asg</AutoScalingGroupName>
        <DefaultResult>CONTINUE</DefaultResult>
        <NotificationMetadata>{"backend":"app"}</NotificationMetadata>
        <LifecycleTransition>autoscaling:EC2_INSTANCE_TERMINATING</LifecycleTransition>
      </member>
    </LifecycleHooks>
  </DescribeLifecycleHooksResult>
  <ResponseMetadata>
    <RequestId>3b1e5b2c-8c1b-11e4-8d3c-0123456789ab</RequestId>
  </ResponseMetadata>
</DescribeLifecycleHooksResponse>)";

std::string asg_error(const std::string& code, const std::string& message) {
  return R"(<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>)" +
         code + "</Code><Message>" + message +
         "</Message></Error><RequestId>8d3c0b2e-0000-4000-8000-000000000001</RequestId></ErrorResponse>";
}

std::string completed(const std::string& op) {
  return "<" + op + R"(Response xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><)" + op + "Result/>" +
         "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></" + op + "Response>";
}

struct LifecycleTest : ::testing::Test {
  FakeHttpClient http;
  FakeClock clock;
  StaticCredentialsProvider creds{Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "test"}};
  ApiStats stats;
  RetryPolicy retry{3, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), std::chrono::seconds(3)};
  QueryClient client{http, creds, clock,
                     ServiceEndpoint{"https://autoscaling.us-west-2.amazonaws.com", "us-west-2", "autoscaling",
                                     "2011-01-01", "Auto Scaling"},
                     retry, &stats};
};

TEST(ParseLifecycleHooks, RealShape) {
  auto hooks = parse_describe_lifecycle_hooks(kHooks);
  ASSERT_TRUE(hooks.ok()) << hooks.error().message;
  ASSERT_EQ(hooks->size(), 2u);
  EXPECT_EQ(hooks->at(0),
            (LifecycleHook{"my-launch-hook", "autoscaling:EC2_INSTANCE_LAUNCHING", 3600, 172800, "ABANDON"}));
  EXPECT_EQ(hooks->at(1), (LifecycleHook{"drain", "autoscaling:EC2_INSTANCE_TERMINATING", 300, 30000, "CONTINUE"}));
}

TEST(ParseLifecycleHooks, NoHooks) {
  auto hooks = parse_describe_lifecycle_hooks(
      "<DescribeLifecycleHooksResponse><DescribeLifecycleHooksResult><LifecycleHooks/></DescribeLifecycleHooksResult>"
      "</DescribeLifecycleHooksResponse>");
  ASSERT_TRUE(hooks.ok());
  EXPECT_TRUE(hooks->empty());
}

TEST(ParseLifecycleHooks, Malformed) {
  for (const char* xml : {"", "<DescribeLifecycleHooksResponse>", "<Other/>",
                          "<DescribeLifecycleHooksResponse/>",
                          "<DescribeLifecycleHooksResponse><DescribeLifecycleHooksResult><LifecycleHooks><member>"
                          "<LifecycleHookName>x</LifecycleHookName></member></LifecycleHooks>"
                          "</DescribeLifecycleHooksResult></DescribeLifecycleHooksResponse>"}) {
    auto r = parse_describe_lifecycle_hooks(xml);
    ASSERT_FALSE(r.ok()) << xml;
    EXPECT_EQ(r.error().code, "MalformedResponse");
    EXPECT_NE(r.error().message.find("DescribeLifecycleHooks"), std::string::npos);
  }
}

TEST_F(LifecycleTest, DescribeLifecycleHooksRequest) {
  http.respond("POST", kUrl, 200, kHooks);
  auto hooks = describe_lifecycle_hooks(client, "my-asg");
  ASSERT_TRUE(hooks.ok()) << hooks.error().message;
  EXPECT_EQ(hooks->size(), 2u);
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, "Action=DescribeLifecycleHooks&Version=2011-01-01&AutoScalingGroupName=my-asg");
  EXPECT_TRUE(find_header(reqs[0].headers, "Authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  EXPECT_FALSE(describe_lifecycle_hooks(client, "").ok());
  EXPECT_EQ(http.requests().size(), 1u);
}

TEST_F(LifecycleTest, CompleteLifecycleActionRequest) {
  http.respond("POST", kUrl, 200, completed("CompleteLifecycleAction"));
  ASSERT_TRUE(complete_lifecycle_action(client, "my-asg", "drain", "i-0123456789abcdef0", "CONTINUE").ok());
  ASSERT_TRUE(complete_lifecycle_action(client, "my asg", "drain", "i-0123456789abcdef0", "ABANDON",
                                        "bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635")
                  .ok());
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body,
            "Action=CompleteLifecycleAction&Version=2011-01-01&LifecycleHookName=drain&AutoScalingGroupName=my-asg"
            "&LifecycleActionResult=CONTINUE&InstanceId=i-0123456789abcdef0");
  EXPECT_EQ(reqs[1].body,
            "Action=CompleteLifecycleAction&Version=2011-01-01&LifecycleHookName=drain&AutoScalingGroupName=my%20asg"
            "&LifecycleActionToken=bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635&LifecycleActionResult=ABANDON"
            "&InstanceId=i-0123456789abcdef0");
  EXPECT_EQ(reqs[0].timeout, std::chrono::seconds(3));
  EXPECT_EQ(stats.calls_of("CompleteLifecycleAction"), 2u);
}

TEST_F(LifecycleTest, CompleteLifecycleActionRefusesBadArgumentsWithoutCalling) {
  http.respond("POST", kUrl, 200, completed("CompleteLifecycleAction"));
  for (const char* result : {"", "continue", "DEFAULT"}) {
    auto r = complete_lifecycle_action(client, "my-asg", "drain", "i-1", result);
    ASSERT_FALSE(r.ok()) << result;
    EXPECT_EQ(r.error().code, "InvalidArgument");
  }
  EXPECT_FALSE(complete_lifecycle_action(client, "", "drain", "i-1", "CONTINUE").ok());
  EXPECT_FALSE(complete_lifecycle_action(client, "my-asg", "", "i-1", "CONTINUE").ok());
  EXPECT_FALSE(complete_lifecycle_action(client, "my-asg", "drain", "", "CONTINUE").ok());
  EXPECT_FALSE(record_lifecycle_action_heartbeat(client, "my-asg", "drain", "").ok());
  EXPECT_TRUE(http.requests().empty());
  // A token alone names the action.
  EXPECT_TRUE(complete_lifecycle_action(client, "my-asg", "drain", "", "CONTINUE", "tok").ok());
}

TEST_F(LifecycleTest, NoActiveLifecycleActionIsItsOwnCode) {
  const std::string by_id = "No active Lifecycle Action found with instance ID i-0123456789abcdef0";
  const std::string by_token = "No active Lifecycle Action found with token bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635";
  for (const auto& message : {by_id, by_token}) {
    http.respond("POST", kUrl, 400, asg_error("ValidationError", message));
    http.clear_requests();
    auto r = complete_lifecycle_action(client, "my-asg", "drain", "i-0123456789abcdef0", "CONTINUE");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, kNoActiveLifecycleAction);
    EXPECT_FALSE(r.error().retryable);
    EXPECT_NE(r.error().message.find(message), std::string::npos) << r.error().message;
    EXPECT_TRUE(r.error().message.starts_with("Auto Scaling CompleteLifecycleAction failed: ValidationError: "))
        << r.error().message;
    EXPECT_EQ(http.requests().size(), 1u);  // not retried

    auto h = record_lifecycle_action_heartbeat(client, "my-asg", "drain", "i-0123456789abcdef0");
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error().code, kNoActiveLifecycleAction);
  }
}

TEST_F(LifecycleTest, OtherErrorsKeepTheirCode) {
  http.respond("POST", kUrl, 400, asg_error("ValidationError", "Group my-asg not found"));
  auto r = complete_lifecycle_action(client, "my-asg", "drain", "i-1", "CONTINUE");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ValidationError");
  http.respond("POST", kUrl, 400, asg_error("AccessDenied", "User is not authorized"));
  auto d = record_lifecycle_action_heartbeat(client, "my-asg", "drain", "i-1");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "AccessDenied");
  EXPECT_EQ(d.error().message,
            "Auto Scaling RecordLifecycleActionHeartbeat failed: AccessDenied: User is not authorized (HTTP 400)");
}

TEST_F(LifecycleTest, ThrottlingRetriedThenHeartbeatRecorded) {
  int n = 0;
  http.on("POST", kUrl, [&](const HttpRequest&) -> Result<HttpResponse> {
    return ++n == 1 ? test::response(400, asg_error("Throttling", "Rate exceeded"))
                    : test::response(200, completed("RecordLifecycleActionHeartbeat"));
  });
  ASSERT_TRUE(record_lifecycle_action_heartbeat(client, "my-asg", "drain", "i-1", "tok").ok());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(http.requests()[1].body,
            "Action=RecordLifecycleActionHeartbeat&Version=2011-01-01&LifecycleHookName=drain"
            "&AutoScalingGroupName=my-asg&LifecycleActionToken=tok&InstanceId=i-1");
}

}  // namespace
}  // namespace hasg::aws
