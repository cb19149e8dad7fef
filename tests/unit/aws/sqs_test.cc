// The SQS calls: ReceiveMessage's request and decoding (real-shaped answers), DeleteMessageBatch in batches of 10
// with per-entry failures.
#include "aws/sqs.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace hasg::aws {
namespace {

using nlohmann::json;
using test::FakeClock;
using test::FakeHttpClient;
using test::find_header;

constexpr const char* kUrl = "https://sqs.us-east-1.amazonaws.com/";
constexpr const char* kQueue = "https://sqs.us-east-1.amazonaws.com/123456789012/haproxy-asg-events";

// A ReceiveMessage answer as SQS's JSON protocol sends it (an Auto Scaling lifecycle notification as the body).
constexpr const char* kReceived = R"({"Messages":[
 {"MessageId":"5fea7756-0ea4-451a-a703-a558b933e274",
  "ReceiptHandle":"MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+CwLj1FjgXUv1uSj1gUPAWV66FU/WeR4mq2OKpEGYWbnLmpRCJVAyeMjeU5ZBdtcQ+QEauMZc8ZRv37sIW2iJKq3M9MFx1YvV11A2x/KSbkJ0=",
  "MD5OfBody":"fafb00f5732ab283681e124bf8747ed1",
  "Body":"{\"Service\":\"AWS Auto Scaling\",\"Event\":\"autoscaling:TEST_NOTIFICATION\"}"},
 {"MessageId":"7d3f6e1a-0000-4000-8000-000000000002","ReceiptHandle":"handle-2","MD5OfBody":"x","Body":"",
  "Attributes":{"SentTimestamp":"1764568800000"}}]})";

struct SqsTest : ::testing::Test {
  FakeHttpClient http;
  FakeClock clock;
  StaticCredentialsProvider creds{Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "test"}};
  ApiStats stats;
  RetryPolicy retry{3, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), std::chrono::seconds(30)};
  JsonClient client{http, creds, clock,
                    ServiceEndpoint{"https://sqs.us-east-1.amazonaws.com", "us-east-1", "sqs", kSqsVersion, "SQS"},
                    sqs_protocol(), retry, &stats};

  std::vector<json> bodies() const {
    std::vector<json> out;
    for (const auto& r : http.requests()) out.push_back(json::parse(r.body));
    return out;
  }
};

TEST_F(SqsTest, ReceiveMessagesRequestAndAnswer) {
  http.respond("POST", kUrl, 200, kReceived);
  auto msgs = receive_messages(client, kQueue, 10, 20, 60);
  ASSERT_TRUE(msgs.ok()) << msgs.error().message;
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ(msgs->at(0).message_id, "5fea7756-0ea4-451a-a703-a558b933e274");
  EXPECT_TRUE(msgs->at(0).receipt_handle.starts_with("MbZj6wDWli+Jvww"));
  EXPECT_EQ(msgs->at(0).body, R"({"Service":"AWS Auto Scaling","Event":"autoscaling:TEST_NOTIFICATION"})");
  EXPECT_EQ(msgs->at(1), (SqsMessage{"7d3f6e1a-0000-4000-8000-000000000002", "handle-2", ""}));

  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].url, kUrl);  // the service endpoint; the queue is named in the body
  EXPECT_EQ(find_header(reqs[0].headers, "X-Amz-Target"), "AmazonSQS.ReceiveMessage");
  EXPECT_EQ(json::parse(reqs[0].body), (json{{"QueueUrl", kQueue},
                                             {"MaxNumberOfMessages", 10},
                                             {"WaitTimeSeconds", 20},
                                             {"VisibilityTimeout", 60}}));
}

TEST_F(SqsTest, QuietPollIsNoMessages) {
  http.respond("POST", kUrl, 200, "{}");
  auto msgs = receive_messages(client, kQueue, 5, 0);
  ASSERT_TRUE(msgs.ok());
  EXPECT_TRUE(msgs->empty());
  EXPECT_EQ(bodies()[0], (json{{"QueueUrl", kQueue}, {"MaxNumberOfMessages", 5}, {"WaitTimeSeconds", 0}}));
  http.respond("POST", kUrl, 200, R"({"Messages":[]})");
  EXPECT_TRUE(receive_messages(client, kQueue)->empty());
}

TEST(ParseReceiveMessages, Malformed) {
  for (const char* answer :
       {R"([])", R"({"Messages":{}})", R"({"Messages":[7]})", R"({"Messages":[{"MessageId":"m"}]})",
        R"({"Messages":[{"ReceiptHandle":"h"}]})", R"({"Messages":[{"MessageId":1,"ReceiptHandle":"h"}]})",
        R"({"Messages":[{"MessageId":"m","ReceiptHandle":"h","Body":{"a":1}}]})"}) {
    auto r = parse_receive_messages(json::parse(answer));
    ASSERT_FALSE(r.ok()) << answer;
    EXPECT_EQ(r.error().code, "MalformedResponse") << answer;
  }
}

TEST_F(SqsTest, ReceiveRefusesBadArgumentsWithoutCalling) {
  EXPECT_FALSE(receive_messages(client, "", 10, 20).ok());
  EXPECT_FALSE(receive_messages(client, kQueue, 0, 20).ok());
  EXPECT_FALSE(receive_messages(client, kQueue, 11, 20).ok());
  EXPECT_FALSE(receive_messages(client, kQueue, 10, 21).ok());
  EXPECT_FALSE(receive_messages(client, kQueue, 10, -1).ok());
  EXPECT_FALSE(receive_messages(client, kQueue, 10, 20, -1).ok());
  EXPECT_FALSE(receive_messages(client, kQueue, 10, 20, 43201).ok());
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(SqsTest, LongPollNeedsALongerRequestTimeout) {
  RetryPolicy short_timeout{3, std::chrono::milliseconds(100), std::chrono::milliseconds(1000),
                            std::chrono::seconds(10)};
  JsonClient discovery_like{http, creds, clock,
                            ServiceEndpoint{"https://sqs.us-east-1.amazonaws.com", "us-east-1", "sqs", kSqsVersion, "SQS"},
                            sqs_protocol(), short_timeout, &stats};
  auto r = receive_messages(discovery_like, kQueue, 10, 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidArgument");
  EXPECT_NE(r.error().message.find("must exceed"), std::string::npos);
  http.respond("POST", kUrl, 200, "{}");
  EXPECT_TRUE(receive_messages(discovery_like, kQueue, 10, 5).ok());  // a short poll fits
}

TEST_F(SqsTest, ReceiveErrorIsNamed) {
  http.on("POST", kUrl, [](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r = test::response(
        400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})");
    r.headers = {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}};
    return r;
  });
  auto r = receive_messages(client, kQueue);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_TRUE(r.error().message.starts_with("SQS ReceiveMessage failed: AWS.SimpleQueueService.NonExistentQueue"));
}

TEST_F(SqsTest, DeleteInBatchesOfTenWithPerEntryFailures) {
  std::vector<std::string> handles;
  for (int i = 0; i < 23; ++i) handles.push_back("handle-" + std::to_string(i));
  http.on("POST", kUrl, [](const HttpRequest& req) -> Result<HttpResponse> {
    json in = json::parse(req.body);
    json ok = json::array(), failed = json::array();
    for (const auto& e : in["Entries"]) {
      std::string h = e["ReceiptHandle"];
      if (h == "handle-4")
        failed.push_back({{"Id", e["Id"]}, {"SenderFault", true}, {"Code", "ReceiptHandleIsInvalid"},
                          {"Message", "The input receipt handle is invalid."}});
      else if (h == "handle-21")
        continue;  // answered about neither way
      else
        ok.push_back({{"Id", e["Id"]}});
    }
    return test::response(200, json{{"Successful", ok}, {"Failed", failed}}.dump());
  });
  auto r = delete_message_batch(client, kQueue, handles);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->deleted, 21u);
  ASSERT_EQ(r->failed.size(), 2u);
  EXPECT_EQ(r->failed[0],
            (SqsDeleteFailure{"handle-4", "ReceiptHandleIsInvalid", "The input receipt handle is invalid.", true}));
  EXPECT_EQ(r->failed[1].receipt_handle, "handle-21");
  EXPECT_EQ(r->failed[1].code, "MissingResult");

  auto b = bodies();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0]["Entries"].size(), 10u);
  EXPECT_EQ(b[1]["Entries"].size(), 10u);
  EXPECT_EQ(b[2]["Entries"].size(), 3u);
  EXPECT_EQ(b[0]["QueueUrl"], kQueue);
  EXPECT_EQ(b[0]["Entries"][0], (json{{"Id", "0"}, {"ReceiptHandle", "handle-0"}}));
  EXPECT_EQ(b[2]["Entries"][2], (json{{"Id", "22"}, {"ReceiptHandle", "handle-22"}}));
  EXPECT_EQ(find_header(http.requests()[0].headers, "X-Amz-Target"), "AmazonSQS.DeleteMessageBatch");
}

TEST_F(SqsTest, DeleteNothingCallsNothing) {
  auto r = delete_message_batch(client, kQueue, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted, 0u);
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(SqsTest, DeleteWholeCallErrorAndMalformedAnswers) {
  http.respond("POST", kUrl, 400,
               R"({"__type":"com.amazonaws.sqs#TooManyEntriesInBatchRequest","message":"Maximum number of entries per request are 10."})");
  auto r = delete_message_batch(client, kQueue, {"h"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "TooManyEntriesInBatchRequest");
  EXPECT_TRUE(r.error().message.starts_with("SQS DeleteMessageBatch failed: TooManyEntriesInBatchRequest: "));

  for (const char* answer : {R"({"Successful":{}})", R"({"Successful":[{"Id":"99"}]})", R"({"Failed":[{"Id":"x"}]})",
                             R"({"Successful":[{"Id":0}]})", R"({"Successful":[7]})"}) {
    http.respond("POST", kUrl, 200, answer);
    auto m = delete_message_batch(client, kQueue, {"h"});
    ASSERT_FALSE(m.ok()) << answer;
    EXPECT_EQ(m.error().code, "MalformedResponse") << answer;
  }
}

}  // namespace
}  // namespace hasg::aws
