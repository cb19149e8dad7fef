// The simulator's SQS in the JSON 1.0 protocol (what haproxy-asg speaks): queues, send/receive/delete, long polls
// that return as soon as a message arrives without holding up other calls, visibility timeouts, batch deletes,
// purges and AWS's JSON errors.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "sim/simulator.h"
#include "sim_client.h"
#include "support/process.h"

namespace hasg::sim {
namespace {

using namespace std::chrono_literals;
using test::SimClient;
using Clock = std::chrono::steady_clock;

class SqsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.start().ok());
    auto r = client_.sqs("CreateQueue", {{"QueueName", "events"}});
    ASSERT_EQ(r.status, 200) << r.body;
    url_ = SimClient::json(r)["QueueUrl"];
  }

  nlohmann::json call(const std::string& action, nlohmann::json input, long want = 200) {
    input["QueueUrl"] = url_;
    auto r = client_.sqs(action, input);
    EXPECT_EQ(r.status, want) << action << ": " << r.body;
    return SimClient::json(r);
  }

  void send(const std::string& body) { call("SendMessage", {{"MessageBody", body}}); }

  Simulator sim_;
  SimClient client_{sim_};
  std::string url_;
};

TEST_F(SqsTest, QueueUrlArnAndAttributes) {
  EXPECT_EQ(url_, sim_.url() + "/123456789012/events");
  auto r = client_.sqs("GetQueueUrl", {{"QueueName", "events"}});
  EXPECT_EQ(SimClient::json(r)["QueueUrl"], url_);
  auto a = call("GetQueueAttributes", {{"AttributeNames", {"QueueArn", "ApproximateNumberOfMessages"}}});
  EXPECT_EQ(a["Attributes"]["QueueArn"], "arn:aws:sqs:us-east-1:123456789012:events");
  EXPECT_EQ(a["Attributes"]["QueueArn"], sim_.queue_arn("events"));
  EXPECT_EQ(a["Attributes"]["ApproximateNumberOfMessages"], "0");
  // Creating it again with the same attributes answers the same URL.
  r = client_.sqs("CreateQueue", {{"QueueName", "events"}});
  EXPECT_EQ(SimClient::json(r)["QueueUrl"], url_);
  EXPECT_EQ(*sim_.create_queue("events"), url_);
}

TEST_F(SqsTest, SendReceiveDelete) {
  auto sent = call("SendMessage", {{"MessageBody", "hello"}});
  EXPECT_EQ(sent["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
  auto got = call("ReceiveMessage", {{"MaxNumberOfMessages", 10}, {"AttributeNames", {"All"}}});
  ASSERT_EQ(got["Messages"].size(), 1u);
  const auto& m = got["Messages"][0];
  EXPECT_EQ(m["Body"], "hello");
  EXPECT_EQ(m["MessageId"], sent["MessageId"]);
  EXPECT_EQ(m["MD5OfBody"], "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(m["Attributes"]["ApproximateReceiveCount"], "1");
  EXPECT_TRUE(m["Attributes"].contains("SentTimestamp"));
  EXPECT_FALSE(m["ReceiptHandle"].get<std::string>().empty());
  // In flight now: not received again, not visible, counted as not visible.
  EXPECT_FALSE(call("ReceiveMessage", nlohmann::json::object()).contains("Messages"));
  auto a = call("GetQueueAttributes", {{"AttributeNames", {"All"}}});
  EXPECT_EQ(a["Attributes"]["ApproximateNumberOfMessagesNotVisible"], "1");
  call("DeleteMessage", {{"ReceiptHandle", m["ReceiptHandle"]}});
  EXPECT_EQ(sim_.queue_messages("events")->size(), 0u);
  auto bad = call("DeleteMessage", {{"ReceiptHandle", "nonsense"}}, 400);
  EXPECT_EQ(bad["__type"], "com.amazonaws.sqs#ReceiptHandleIsInvalid");
}

TEST_F(SqsTest, LongPollReturnsAsSoonAsAMessageArrivesAndBlocksNoOtherCall) {
  // Several long polls at once (more than the old 4-thread pool), each on its own connection.
  std::vector<std::future<std::pair<nlohmann::json, Clock::duration>>> polls;
  for (int i = 0; i < 6; ++i)
    polls.push_back(std::async(std::launch::async, [&] {
      SimClient own(sim_);
      auto t0 = Clock::now();
      auto r = own.sqs("ReceiveMessage", {{"QueueUrl", url_}, {"WaitTimeSeconds", 20}}, 30s);
      return std::make_pair(SimClient::json(r), Clock::now() - t0);
    }));
  ASSERT_TRUE(hasg::test::wait_until([&] { return sim_.calls("ReceiveMessage") == 6; }));
  // Other calls are answered at once while the polls wait.
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto r = client_.query("autoscaling", "DescribeAutoScalingGroups", {});
    EXPECT_EQ(r.status, 200);
    EXPECT_LT(Clock::now() - t0, 1s);
  }
  for (int i = 0; i < 6; ++i) send("m" + std::to_string(i));
  auto sent_at = Clock::now();
  std::set<std::string> bodies;
  for (auto& p : polls) {
    ASSERT_EQ(p.wait_for(5s), std::future_status::ready);
    auto [j, took] = p.get();
    ASSERT_EQ(j["Messages"].size(), 1u) << j.dump();
    bodies.insert(j["Messages"][0]["Body"].get<std::string>());
    EXPECT_LT(took, 20s);
  }
  EXPECT_LT(Clock::now() - sent_at, 2s);
  EXPECT_EQ(bodies.size(), 6u);  // each message went to one poll only
}

TEST_F(SqsTest, EmptyLongPollWaitsItsTime) {
  auto t0 = Clock::now();
  auto j = call("ReceiveMessage", {{"WaitTimeSeconds", 1}});
  EXPECT_FALSE(j.contains("Messages"));
  EXPECT_GE(Clock::now() - t0, 1s);
}

TEST_F(SqsTest, StopEndsALongPollPromptly) {
  auto poll = std::async(std::launch::async, [&] {
    SimClient own(sim_);
    return own.sqs("ReceiveMessage", {{"QueueUrl", url_}, {"WaitTimeSeconds", 20}}, 30s);
  });
  ASSERT_TRUE(hasg::test::wait_until([&] { return sim_.calls("ReceiveMessage") == 1; }));
  auto t0 = Clock::now();
  sim_.stop();
  EXPECT_LT(Clock::now() - t0, 3s);
  ASSERT_EQ(poll.wait_for(3s), std::future_status::ready);
}

TEST_F(SqsTest, VisibilityTimeoutBringsAMessageBack) {
  send("again");
  auto first = call("ReceiveMessage", {{"VisibilityTimeout", 1}});
  ASSERT_EQ(first["Messages"].size(), 1u);
  EXPECT_FALSE(call("ReceiveMessage", nlohmann::json::object()).contains("Messages"));
  // A long poll wakes when the timeout ends.
  auto t0 = Clock::now();
  auto second = call("ReceiveMessage", {{"WaitTimeSeconds", 10}, {"AttributeNames", {"ApproximateReceiveCount"}}});
  ASSERT_EQ(second["Messages"].size(), 1u);
  EXPECT_LT(Clock::now() - t0, 3s);
  EXPECT_EQ(second["Messages"][0]["Attributes"]["ApproximateReceiveCount"], "2");
  EXPECT_NE(second["Messages"][0]["ReceiptHandle"], first["Messages"][0]["ReceiptHandle"]);
  // ChangeMessageVisibility 0 makes it visible at once; on a visible message it is an error.
  call("ChangeMessageVisibility",
       {{"ReceiptHandle", second["Messages"][0]["ReceiptHandle"]}, {"VisibilityTimeout", 0}});
  auto err = call("ChangeMessageVisibility",
                  {{"ReceiptHandle", second["Messages"][0]["ReceiptHandle"]}, {"VisibilityTimeout", 30}}, 400);
  EXPECT_EQ(err["__type"], "com.amazonaws.sqs#MessageNotInflight");
  EXPECT_EQ(call("ReceiveMessage", nlohmann::json::object())["Messages"].size(), 1u);
}

TEST_F(SqsTest, DeleteMessageBatch) {
  for (int i = 0; i < 3; ++i) send("b" + std::to_string(i));
  auto got = call("ReceiveMessage", {{"MaxNumberOfMessages", 10}});
  ASSERT_EQ(got["Messages"].size(), 3u);
  nlohmann::json entries = nlohmann::json::array();
  entries.push_back({{"Id", "a"}, {"ReceiptHandle", got["Messages"][0]["ReceiptHandle"]}});
  entries.push_back({{"Id", "b"}, {"ReceiptHandle", got["Messages"][1]["ReceiptHandle"]}});
  entries.push_back({{"Id", "c"}, {"ReceiptHandle", "bogus"}});
  auto j = call("DeleteMessageBatch", {{"Entries", entries}});
  ASSERT_EQ(j["Successful"].size(), 2u);
  EXPECT_EQ(j["Successful"][0]["Id"], "a");
  ASSERT_EQ(j["Failed"].size(), 1u);
  EXPECT_EQ(j["Failed"][0]["Id"], "c");
  EXPECT_EQ(j["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
  EXPECT_EQ(j["Failed"][0]["SenderFault"], true);
  EXPECT_EQ(sim_.queue_messages("events")->size(), 1u);

  auto e = call("DeleteMessageBatch", {{"Entries", nlohmann::json::array()}}, 400);
  EXPECT_EQ(e["__type"], "com.amazonaws.sqs#EmptyBatchRequest");
  nlohmann::json twice =
      nlohmann::json::array({{{"Id", "x"}, {"ReceiptHandle", "h"}}, {{"Id", "x"}, {"ReceiptHandle", "h"}}});
  e = call("DeleteMessageBatch", {{"Entries", twice}}, 400);
  EXPECT_EQ(e["__type"], "com.amazonaws.sqs#BatchEntryIdsNotDistinct");
}

TEST_F(SqsTest, PurgeAndErrors) {
  send("x");
  send("y");
  call("PurgeQueue", nlohmann::json::object());
  EXPECT_EQ(sim_.queue_messages("events")->size(), 0u);
  auto e = call("PurgeQueue", nlohmann::json::object(), 403);
  EXPECT_EQ(e["__type"], "com.amazonaws.sqs#PurgeQueueInProgress");

  auto r = client_.sqs("GetQueueUrl", {{"QueueName", "nope"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(SimClient::json(r)["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
  EXPECT_EQ(r.header("x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(r.header("Content-Type"), "application/x-amz-json-1.0");
  e = call("ReceiveMessage", {{"MaxNumberOfMessages", 11}}, 400);
  EXPECT_EQ(e["__type"], "com.amazonaws.sqs#InvalidParameterValue");
  EXPECT_EQ(e["message"],
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, "
            "if provided.");
  e = call("ReceiveMessage", {{"WaitTimeSeconds", 21}}, 400);
  EXPECT_EQ(e["__type"], "com.amazonaws.sqs#InvalidParameterValue");
  // Signed for another service's scope: not SQS's call.
  auto wrong = client_.query("autoscaling", "ReceiveMessage", {{"QueueUrl", url_}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("InvalidAction"), std::string::npos);
}

}  // namespace
}  // namespace hasg::sim
