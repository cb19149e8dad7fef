// The events listener's hand-over of EC2 state changes to discovery: every instance an EC2 state-change message
// names (a known member or not: one cached by a cycle still running is not known yet) is handed to each cycle until
// the message's second look is past, then no more.
#include "daemon/sqs_events.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "aws/sqs.h"
#include "unit/aws/fakes.h"

namespace hasg::daemon {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUrl = "https://sqs.us-east-1.amazonaws.com/";
constexpr const char* kQueue = "https://sqs.us-east-1.amazonaws.com/123456789012/haproxy-asg-events";

// An EventBridge "EC2 Instance State-change Notification" in a ReceiveMessage answer.
std::string state_change(const std::string& instance, const std::string& state) {
  const nlohmann::json event = {{"version", "0"},
                                {"id", "7bf73129-1428-4cd3-a780-95db273d1602"},
                                {"detail-type", "EC2 Instance State-change Notification"},
                                {"source", "aws.ec2"},
                                {"account", "123456789012"},
                                {"time", "2026-12-02T05:00:00Z"},
                                {"region", "us-east-1"},
                                {"resources", {"arn:aws:ec2:us-east-1:123456789012:instance/" + instance}},
                                {"detail", {{"instance-id", instance}, {"state", state}}}};
  return nlohmann::json{{"Messages",
                         {{{"MessageId", "5fea7756-0ea4-451a-a703-a558b933e274"},
                           {"ReceiptHandle", "handle-1"},
                           {"MD5OfBody", "x"},
                           {"Body", event.dump()}}}}}
      .dump();
}

TEST(SqsEvents, AnEc2StateChangeIsHandedOutUntilItsSecondLookIsPast) {
  aws::test::FakeHttpClient http;
  aws::test::FakeClock clock;
  aws::StaticCredentialsProvider creds{aws::Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "test"}};
  aws::RetryPolicy retry{1, 1ms, 1ms, 30s};  // a request timeout above the long poll's 20 s
  const aws::ServiceEndpoint endpoint{"https://sqs.us-east-1.amazonaws.com", "us-east-1", "sqs", aws::kSqsVersion,
                                      "SQS"};
  aws::JsonClient poll{http, creds, clock, endpoint, aws::sqs_protocol(), retry};
  aws::JsonClient acks{http, creds, clock, endpoint, aws::sqs_protocol(), retry};
  std::atomic<int> receives{0};
  http.on("POST", kUrl, [&](const aws::HttpRequest& req) -> Result<aws::HttpResponse> {
    if (nlohmann::json::parse(req.body).contains("Entries"))  // DeleteMessageBatch
      return aws::test::response(200, R"({"Successful":[{"Id":"0"}],"Failed":[]})");
    std::this_thread::sleep_for(20ms);  // a long poll, shortened
    return aws::test::response(200, receives++ == 0 ? state_change("i-0123456789abcdef0", "stopping") : "{}");
  });
  Metrics metrics;
  SqsEvents events(poll, acks, kQueue, {"app"}, metrics, [] {});
  ASSERT_TRUE(events.start([](const std::string&) {}).ok());

  // The instance is not a member as far as the listener knows (no cycle has ended): the message is deleted as
  // foreign, and the instance is handed out all the same.
  const std::chrono::steady_clock::time_point long_ago{};
  std::set<std::string> got;
  for (int i = 0; i < 500 && got.empty(); ++i) {
    got = events.take_changed_instances(long_ago);
    if (got.empty()) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(got, std::set<std::string>{"i-0123456789abcdef0"});
  // Before its second look: handed out again (EC2 may have answered `running` at the first cycle).
  EXPECT_EQ(events.take_changed_instances(long_ago), std::set<std::string>{"i-0123456789abcdef0"});
  // At the second look: handed out a last time, then forgotten.
  const auto later = std::chrono::steady_clock::now() + 2s;
  EXPECT_EQ(events.take_changed_instances(later), std::set<std::string>{"i-0123456789abcdef0"});
  EXPECT_TRUE(events.take_changed_instances(long_ago).empty());
  events.stop();
}

}  // namespace
}  // namespace hasg::daemon
