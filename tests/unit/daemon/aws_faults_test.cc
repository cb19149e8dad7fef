// Each AWS edge's failures under its own key, with a remedy that tells the operator what to do, resolved when the
// operations that failed work again; a refusal of one request that its caller handles is no fault.
#include "daemon/aws_faults.h"

#include <gtest/gtest.h>

namespace hasg::daemon {
namespace {

const aws::ServiceEndpoint kAutoScaling{"http://127.0.0.1:1", "us-east-1", "autoscaling", "2011-01-01",
                                        "Auto Scaling"};
const aws::ServiceEndpoint kEc2{"http://127.0.0.1:1", "us-east-1", "ec2", "2016-11-15", "EC2"};
const aws::ServiceEndpoint kSqs{"http://127.0.0.1:1", "us-east-1", "sqs", "2012-11-05", "SQS"};
const aws::ServiceEndpoint kCloudWatch{"http://127.0.0.1:1", "us-east-1", "monitoring", "2010-08-01", "CloudWatch"};

Error err(const std::string& code, bool retryable = false) { return make_error(code, code + ": it failed", retryable); }

TEST(AwsFaultKey, OneKeyPerEdge) {
  EXPECT_EQ(aws_fault_key("autoscaling", "DescribeAutoScalingGroups"), "aws.autoscaling");
  EXPECT_EQ(aws_fault_key("ec2", "DescribeInstances"), "aws.ec2");
  EXPECT_EQ(aws_fault_key("autoscaling", "CompleteLifecycleAction"), "aws.lifecycle");
  EXPECT_EQ(aws_fault_key("autoscaling", "RecordLifecycleActionHeartbeat"), "aws.lifecycle");
  EXPECT_EQ(aws_fault_key("autoscaling", "SetInstanceHealth"), "aws.lifecycle");
  EXPECT_EQ(aws_fault_key("ec2", "CreateTags"), "aws.cluster");
  EXPECT_EQ(aws_fault_key("ec2", "DescribeTags"), "aws.cluster");
  EXPECT_EQ(aws_fault_key("sqs", "ReceiveMessage"), "aws.sqs");
  EXPECT_EQ(aws_fault_key("sqs", "DeleteMessageBatch"), "aws.sqs");
  EXPECT_EQ(aws_fault_key("monitoring", "PutMetricData"), "aws.cloudwatch");
}

TEST(ClassifyAwsFailure, RemediesSayWhatToDo) {
  auto throttled = classify_aws_failure(kAutoScaling, "DescribeAutoScalingGroups", err("Throttling", true));
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->key, "aws.autoscaling");
  EXPECT_NE(throttled->remedy.find("raise `interval`"), std::string::npos) << throttled->remedy;

  auto denied = classify_aws_failure(kEc2, "DescribeInstances", err("UnauthorizedOperation"));
  ASSERT_TRUE(denied);
  EXPECT_NE(denied->remedy.find("allow ec2:DescribeInstances"), std::string::npos) << denied->remedy;
  auto cw = classify_aws_failure(kCloudWatch, "PutMetricData", err("AccessDenied"));
  ASSERT_TRUE(cw);
  EXPECT_EQ(cw->key, "aws.cloudwatch");
  EXPECT_NE(cw->remedy.find("allow cloudwatch:PutMetricData"), std::string::npos) << cw->remedy;

  auto timeout = classify_aws_failure(kSqs, "ReceiveMessage", err("RequestTimeout", true));
  ASSERT_TRUE(timeout);
  EXPECT_EQ(timeout->key, "aws.sqs");
  EXPECT_NE(timeout->remedy.find("does not answer"), std::string::npos);

  auto malformed = classify_aws_failure(kAutoScaling, "DescribeAutoScalingGroups", err("MalformedResponse"));
  ASSERT_TRUE(malformed);
  EXPECT_NE(malformed->remedy.find("not AWS's"), std::string::npos);

  auto server = classify_aws_failure(kAutoScaling, "DescribeAutoScalingGroups", err("InternalFailure", true));
  ASSERT_TRUE(server);
  EXPECT_NE(server->remedy.find("AWS's side"), std::string::npos);
}

TEST(ClassifyAwsFailure, CredentialsAreTheirOwnFaultWhateverTheEdge) {
  for (const char* code : {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "NoCredentials",
                           "SignatureDoesNotMatch", "AuthFailure"}) {
    auto f = classify_aws_failure(kEc2, "DescribeInstances", err(code));
    ASSERT_TRUE(f) << code;
    EXPECT_EQ(f->key, "aws.credentials") << code;
  }
}

TEST(ClassifyAwsFailure, ARequestItsCallerHandlesIsNoFault) {
  EXPECT_FALSE(classify_aws_failure(kAutoScaling, "CompleteLifecycleAction", err("ValidationError")));
  EXPECT_FALSE(classify_aws_failure(kEc2, "DescribeInstances", err("InvalidInstanceID.NotFound")));
}

TEST(AwsFaultReporter, ReportsOnceAndResolvesWhenEveryFailedOperationWorks) {
  FaultBook book;
  AwsFaultReporter reporter(book);
  const std::string create = "CreateTags", describe = "DescribeTags", instances = "DescribeInstances";
  Error denied = err("UnauthorizedOperation");
  reporter({kEc2, create, &denied});
  reporter({kEc2, create, &denied});
  ASSERT_TRUE(book.failing("aws.cluster"));
  EXPECT_EQ(book.active().front().occurrences, 2);
  EXPECT_NE(book.active().front().remedy.find("ec2:CreateTags"), std::string::npos);
  reporter({kEc2, describe, nullptr});
  EXPECT_TRUE(book.failing("aws.cluster")) << "DescribeTags working does not heal CreateTags";
  reporter({kEc2, instances, nullptr});
  EXPECT_TRUE(book.failing("aws.cluster")) << "another edge working does not heal this one";
  reporter({kEc2, create, nullptr});
  EXPECT_FALSE(book.failing("aws.cluster"));
}

// A call that keeps failing keeps its edge failing, whatever else of the edge works meanwhile: CreateTags
// throttled at every cycle while DescribeTags works is one fault, logged once, not one per cycle.
TEST(AwsFaultReporter, ACallFailingEveryCycleIsNotHealedByAnotherOfItsEdge) {
  FaultBook book;
  AwsFaultReporter reporter(book, std::chrono::seconds(120));
  const std::string create = "CreateTags", describe = "DescribeTags";
  Error throttled = err("RequestLimitExceeded", true);
  auto t = AwsFaultReporter::Clock::now();
  for (int cycle = 0; cycle < 100; ++cycle, t += std::chrono::seconds(5)) {
    reporter.heard({kEc2, describe, nullptr}, t);
    reporter.heard({kEc2, create, &throttled}, t + std::chrono::milliseconds(10));
    ASSERT_TRUE(book.failing("aws.cluster")) << "cycle " << cycle;
  }
  EXPECT_EQ(book.active().front().occurrences, 100) << "one fault all along";
  reporter.heard({kEc2, create, nullptr}, t);
  EXPECT_FALSE(book.failing("aws.cluster"));
}

// A passing failure of a call that may never be made again (a heartbeat that timed out, then its drain ended) ends
// once that call has not been made for the settle time (every call of any edge ticks); its own answer ends it at
// once, a handled refusal included (a completion AWS applied although our side timed out: its retry is told there
// is no active action). A denial stays until that very call works.
TEST(AwsFaultReporter, PassingFailuresOfACallNoLongerMadeSettle) {
  FaultBook book;
  const auto settle = std::chrono::seconds(120);
  AwsFaultReporter reporter(book, settle);
  const std::string heartbeat = "RecordLifecycleActionHeartbeat", complete = "CompleteLifecycleAction",
                    discovery = "DescribeAutoScalingGroups";
  Error timeout = err("RequestTimeout", true);
  auto t = AwsFaultReporter::Clock::now();
  reporter.heard({kAutoScaling, heartbeat, &timeout}, t);
  ASSERT_TRUE(book.failing("aws.lifecycle"));
  reporter.heard({kAutoScaling, complete, nullptr}, t + std::chrono::seconds(1));
  EXPECT_TRUE(book.failing("aws.lifecycle")) << "another call of the edge answering says nothing of the heartbeat";
  reporter.heard({kAutoScaling, discovery, nullptr}, t + settle - std::chrono::seconds(1));
  EXPECT_TRUE(book.failing("aws.lifecycle"));
  reporter.heard({kAutoScaling, discovery, nullptr}, t + settle);
  EXPECT_FALSE(book.failing("aws.lifecycle")) << "not made again for the settle time: over";

  t += 2 * settle;
  reporter.heard({kAutoScaling, complete, &timeout}, t);
  ASSERT_TRUE(book.failing("aws.lifecycle"));
  Error handled = err("ValidationError");
  reporter.heard({kAutoScaling, complete, &handled}, t + std::chrono::seconds(1));
  EXPECT_FALSE(book.failing("aws.lifecycle")) << "a refusal its caller handles is an answer";

  Error denied = err("AccessDenied");
  reporter.heard({kAutoScaling, heartbeat, &denied}, t);
  reporter.heard({kAutoScaling, discovery, nullptr}, t + 10 * settle);
  EXPECT_TRUE(book.failing("aws.lifecycle")) << "a denial does not settle";
  reporter.heard({kAutoScaling, heartbeat, nullptr}, t + 10 * settle);
  EXPECT_FALSE(book.failing("aws.lifecycle"));
}

TEST(AwsFaultReporter, SettleTimeOutlastsEveryRetry) {
  using std::chrono::milliseconds;
  EXPECT_EQ(settle_time(milliseconds(5'000), milliseconds(0)), AwsFaultReporter::kLeastSettle);
  EXPECT_EQ(settle_time(milliseconds(300'000), milliseconds(60'000)), milliseconds(900'000));
  EXPECT_EQ(settle_time(milliseconds(5'000), milliseconds(3'600'000)), milliseconds(7'200'000));
}

TEST(AwsFaultReporter, AnyCallThroughHealsCredentials) {
  FaultBook book;
  AwsFaultReporter reporter(book);
  const std::string op = "ReceiveMessage", other = "DescribeAutoScalingGroups";
  Error expired = err("ExpiredToken");
  reporter({kSqs, op, &expired});
  ASSERT_TRUE(book.failing("aws.credentials"));
  EXPECT_FALSE(book.failing("aws.sqs"));
  reporter({kAutoScaling, other, nullptr});
  EXPECT_FALSE(book.failing("aws.credentials"));
}

TEST(AwsFaultReporter, IgnoresWhatIsNoFault) {
  FaultBook book;
  AwsFaultReporter reporter(book);
  const std::string op = "CompleteLifecycleAction";
  Error gone = err("ValidationError");
  reporter({kAutoScaling, op, &gone});
  EXPECT_TRUE(book.active().empty());
}

}  // namespace
}  // namespace hasg::daemon
