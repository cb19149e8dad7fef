// Decoding of realistic Auto Scaling and EC2 answers: shapes as AWS documents them, pagination tokens, empty
// results, IPv6, errors, and answers that are not what they claim to be.
#include <gtest/gtest.h>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "aws/query_client.h"

namespace hasg::aws {
namespace {

const char* kTwoGroups = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
  <DescribeAutoScalingGroupsResult>
    <AutoScalingGroups>
      <member>
        <AutoScalingGroupName>web</AutoScalingGroupName>
        <AutoScalingGroupARN>arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:a:autoScalingGroupName/web</AutoScalingGroupARN>
        <LaunchTemplate><LaunchTemplateId>lt-0123</LaunchTemplateId><Version>$Latest</Version></LaunchTemplate>
        <MinSize>1</MinSize>
        <MaxSize>6</MaxSize>
        <DesiredCapacity>2</DesiredCapacity>
        <AvailabilityZones><member>us-east-1a</member><member>us-east-1b</member></AvailabilityZones>
        <Instances>
          <member>
            <InstanceId>i-0a1b2c3d4e5f60001</InstanceId>
            <InstanceType>t3.micro</InstanceType>
            <AvailabilityZone>us-east-1a</AvailabilityZone>
            <LifecycleState>InService</LifecycleState>
            <HealthStatus>Healthy</HealthStatus>
            <LaunchTemplate><LaunchTemplateId>lt-0123</LaunchTemplateId><Version>1</Version></LaunchTemplate>
            <ProtectedFromScaleIn>false</ProtectedFromScaleIn>
          </member>
          <member>
            <InstanceId>i-0a1b2c3d4e5f60002</InstanceId>
            <AvailabilityZone>us-east-1b</AvailabilityZone>
            <LifecycleState>Terminating:Wait</LifecycleState>
            <HealthStatus>Unhealthy</HealthStatus>
            <ProtectedFromScaleIn>false</ProtectedFromScaleIn>
          </member>
        </Instances>
        <TerminationPolicies><member>Default</member></TerminationPolicies>
      </member>
      <member>
        <AutoScalingGroupName>empty</AutoScalingGroupName>
        <MinSize>0</MinSize><MaxSize>0</MaxSize><DesiredCapacity>0</DesiredCapacity>
        <Instances/>
      </member>
    </AutoScalingGroups>
    <NextToken>b2theW==</NextToken>
  </DescribeAutoScalingGroupsResult>
  <ResponseMetadata><RequestId>5b1a2b0c-0000-11e8-9b4e-6d0b8a2d2b4b</RequestId></ResponseMetadata>
</DescribeAutoScalingGroupsResponse>)";

TEST(DescribeAutoScalingGroups, DecodesGroupsInstancesAndNextToken) {
  auto page = parse_describe_auto_scaling_groups(kTwoGroups);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->next_token, "b2theW==");
  ASSERT_EQ(page->groups.size(), 2u);
  AutoScalingGroup web{"web", 1, 6, 2,
                       {{"i-0a1b2c3d4e5f60001", "us-east-1a", "InService", "Healthy"},
                        {"i-0a1b2c3d4e5f60002", "us-east-1b", "Terminating:Wait", "Unhealthy"}}};
  EXPECT_EQ(page->groups[0], web);
  EXPECT_EQ(page->groups[1], (AutoScalingGroup{"empty", 0, 0, 0, {}}));
}

TEST(DescribeAutoScalingGroups, NoGroupsIsAnEmptyPageNotAnError) {
  auto page = parse_describe_auto_scaling_groups(
      R"(<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
           <DescribeAutoScalingGroupsResult><AutoScalingGroups/></DescribeAutoScalingGroupsResult>
           <ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>
         </DescribeAutoScalingGroupsResponse>)");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->groups.empty());
  EXPECT_TRUE(page->next_token.empty());
}

TEST(DescribeAutoScalingGroups, TruncatedAnswerIsMalformed) {
  std::string half = std::string(kTwoGroups).substr(0, 700);
  auto page = parse_describe_auto_scaling_groups(half);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, "MalformedResponse");
  EXPECT_NE(page.error().message.find("malformed DescribeAutoScalingGroups answer"), std::string::npos);
}

TEST(DescribeAutoScalingGroups, AnotherDocumentIsMalformed) {
  auto page = parse_describe_auto_scaling_groups("<html><body>Gateway Timeout</body></html>");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, "MalformedResponse");
  EXPECT_NE(page.error().message.find("DescribeAutoScalingGroupsResponse"), std::string::npos);
}

TEST(DescribeAutoScalingGroups, InstanceWithoutLifecycleStateIsMalformed) {
  auto page = parse_describe_auto_scaling_groups(
      R"(<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult><AutoScalingGroups><member>
           <AutoScalingGroupName>g</AutoScalingGroupName>
           <Instances><member><InstanceId>i-1</InstanceId></member></Instances>
         </member></AutoScalingGroups></DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>)");
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.error().message.find("group g"), std::string::npos);
}

const char* kInstances = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
  <reservationSet>
    <item>
      <reservationId>r-1234567890abcdef0</reservationId>
      <ownerId>123456789012</ownerId>
      <groupSet/>
      <instancesSet>
        <item>
          <instanceId>i-0a1b2c3d4e5f60001</instanceId>
          <imageId>ami-0abcdef1234567890</imageId>
          <instanceState><code>16</code><name>running</name></instanceState>
          <privateDnsName>ip-10-0-1-10.ec2.internal</privateDnsName>
          <instanceType>t3.micro</instanceType>
          <placement><availabilityZone>us-east-1a</availabilityZone><groupName/><tenancy>default</tenancy></placement>
          <privateIpAddress>10.0.1.10</privateIpAddress>
          <networkInterfaceSet>
            <item>
              <networkInterfaceId>eni-0123</networkInterfaceId>
              <privateIpAddress>10.0.1.10</privateIpAddress>
              <ipv6AddressesSet><item><ipv6Address>2600:1f18:1:2::10</ipv6Address></item></ipv6AddressesSet>
            </item>
          </networkInterfaceSet>
        </item>
        <item>
          <instanceId>i-0a1b2c3d4e5f60003</instanceId>
          <instanceState><code>80</code><name>stopped</name></instanceState>
          <placement><availabilityZone>us-east-1b</availabilityZone></placement>
          <privateIpAddress>10.0.2.11</privateIpAddress>
        </item>
      </instancesSet>
    </item>
    <item>
      <reservationId>r-2</reservationId>
      <instancesSet>
        <item>
          <instanceId>i-0a1b2c3d4e5f60004</instanceId>
          <instanceState><code>48</code><name>terminated</name></instanceState>
          <placement><availabilityZone>us-east-1c</availabilityZone></placement>
        </item>
      </instancesSet>
    </item>
  </reservationSet>
  <nextToken>eyJ2IjoiMiJ9</nextToken>
</DescribeInstancesResponse>)";

TEST(DescribeInstances, DecodesEveryReservationStateAndAddress) {
  auto page = parse_describe_instances(kInstances);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->next_token, "eyJ2IjoiMiJ9");
  ASSERT_EQ(page->instances.size(), 3u);
  EXPECT_EQ(page->instances[0],
            (Ec2Instance{"i-0a1b2c3d4e5f60001", "running", "10.0.1.10", "2600:1f18:1:2::10", "us-east-1a"}));
  EXPECT_EQ(page->instances[1], (Ec2Instance{"i-0a1b2c3d4e5f60003", "stopped", "10.0.2.11", "", "us-east-1b"}));
  EXPECT_EQ(page->instances[2], (Ec2Instance{"i-0a1b2c3d4e5f60004", "terminated", "", "", "us-east-1c"}));
}

TEST(DescribeInstances, EmptyReservationSet) {
  auto page = parse_describe_instances(
      R"(<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>x</requestId>
         <reservationSet/></DescribeInstancesResponse>)");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->instances.empty());
}

TEST(DescribeInstances, ErrorDocumentInPlaceOfAnswerIsMalformed) {
  auto page = parse_describe_instances(
      "<Response><Errors><Error><Code>X</Code><Message>y</Message></Error></Errors></Response>");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, "MalformedResponse");
}

TEST(ErrorBodies, AutoScalingAndEc2Shapes) {
  auto asg = parse_error_body(
      R"(<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type>
         <Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>)");
  EXPECT_EQ(asg, (std::pair<std::string, std::string>{"Throttling", "Rate exceeded"}));
  auto ec2 = parse_error_body(
      R"(<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>
         <Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>)");
  EXPECT_EQ(ec2, (std::pair<std::string, std::string>{"RequestLimitExceeded", "Request limit exceeded."}));
  EXPECT_EQ(parse_error_body("<html>502 Bad Gateway</html>").first, "");
  EXPECT_EQ(parse_error_body("not xml").first, "");
}

TEST(Retryable, ThrottlingAndServerErrorsOnly) {
  EXPECT_TRUE(is_retryable("Throttling", 400));
  EXPECT_TRUE(is_retryable("RequestLimitExceeded", 503));
  EXPECT_TRUE(is_retryable("HttpError", 502));
  EXPECT_TRUE(is_retryable("ConnectionError", 0));
  EXPECT_FALSE(is_retryable("SignatureDoesNotMatch", 403));
  EXPECT_FALSE(is_retryable("ValidationError", 400));
  EXPECT_FALSE(is_retryable("MalformedResponse", 200));
}

}  // namespace

TEST(DescribeTags, DecodesTagsAndNextToken) {
  // The shape of https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeTags.html's example.
  auto page = parse_describe_tags(R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
  <tagSet>
    <item><resourceId>i-1</resourceId><resourceType>instance</resourceType><key>haproxy-asg:drained:i-lb1</key><value>2026-12-01T16:37:44Z</value></item>
    <item><resourceId>i-1</resourceId><resourceType>instance</resourceType><key>empty</key><value/></item>
  </tagSet>
  <nextToken>abc</nextToken>
</DescribeTagsResponse>)");
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->tags, (std::vector<Ec2Tag>{{"i-1", "haproxy-asg:drained:i-lb1", "2026-12-01T16:37:44Z"},
                                                  {"i-1", "empty", ""}}));
  EXPECT_EQ(page->next_token, "abc");
  EXPECT_EQ(parse_describe_tags("<DescribeTagsResponse/>").error().code, "MalformedResponse");
}

}  // namespace hasg::aws
