// The JSON-protocol client (SQS): the request's shape (POST /, x-amz-json-1.0, X-Amz-Target, query mode, SigV4),
// JSON error decoding (__type, the x-amzn-query-error header first), and the retries and errors it shares with the
// Query client.
#include "aws/json_client.h"

#include <gtest/gtest.h>

#include "aws/sqs.h"
#include "fakes.h"

namespace hasg::aws {
namespace {

using test::FakeClock;
using test::FakeHttpClient;
using test::find_header;

constexpr const char* kUrl = "https://sqs.us-east-1.amazonaws.com/";

HttpResponse answer(long status, std::string body, Headers headers = {}) {
  HttpResponse r = test::response(status, std::move(body));
  r.headers = std::move(headers);
  return r;
}

struct JsonClientTest : ::testing::Test {
  FakeHttpClient http;
  FakeClock clock;
  StaticCredentialsProvider creds{Credentials{"AKIDEXAMPLE", "secret", "session-token", std::nullopt, "test"}};
  ApiStats stats;
  RetryPolicy retry{3, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), std::chrono::seconds(30)};
  JsonClient client{http,         creds, clock, ServiceEndpoint{"https://sqs.us-east-1.amazonaws.com", "us-east-1", "sqs",
                                                                "2012-11-05", "SQS"},
                    sqs_protocol(), retry, &stats};
};

TEST_F(JsonClientTest, SendsSignedJsonPost) {
  http.respond("POST", kUrl, 200, R"({"Messages":[]})");
  auto r = client.call("ReceiveMessage", {{"QueueUrl", "https://sqs.us-east-1.amazonaws.com/123456789012/q"},
                                          {"MaxNumberOfMessages", 10}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->at("Messages").is_array());
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].url, kUrl);
  EXPECT_EQ(find_header(reqs[0].headers, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(find_header(reqs[0].headers, "X-Amz-Target"), "AmazonSQS.ReceiveMessage");
  EXPECT_EQ(find_header(reqs[0].headers, "x-amzn-query-mode"), "true");
  EXPECT_EQ(find_header(reqs[0].headers, "Host"), "sqs.us-east-1.amazonaws.com");
  EXPECT_EQ(find_header(reqs[0].headers, "X-Amz-Date"), "20261124T060000Z");
  EXPECT_EQ(find_header(reqs[0].headers, "X-Amz-Security-Token"), "session-token");
  std::string auth = find_header(reqs[0].headers, "Authorization");
  EXPECT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/sqs/aws4_request"))
      << auth;
  // The target and content type are signed, so a proxy cannot change the operation.
  EXPECT_NE(auth.find("content-type"), std::string::npos) << auth;
  EXPECT_NE(auth.find("x-amz-target"), std::string::npos) << auth;
  EXPECT_EQ(nlohmann::json::parse(reqs[0].body),
            (nlohmann::json{{"QueueUrl", "https://sqs.us-east-1.amazonaws.com/123456789012/q"},
                            {"MaxNumberOfMessages", 10}}));
  EXPECT_EQ(reqs[0].timeout, std::chrono::seconds(30));
  EXPECT_EQ(stats.calls_of("ReceiveMessage"), 1u);
}

TEST_F(JsonClientTest, EmptyAnswerIsAnEmptyObjectAndNullInputAnEmptyBody) {
  http.respond("POST", kUrl, 200, "");
  auto r = client.call("PurgeQueue", nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, nlohmann::json::object());
  EXPECT_EQ(http.requests()[0].body, "{}");
}

TEST_F(JsonClientTest, NotJsonIsMalformed) {
  for (const char* body : {"<html>gateway</html>", "[1,2]", "\"text\"", "{\"a\":"}) {
    http.respond("POST", kUrl, 200, body);
    auto r = client.call("ReceiveMessage", nlohmann::json::object());
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, "MalformedResponse");
    EXPECT_NE(r.error().message.find("SQS ReceiveMessage"), std::string::npos);
  }
}

TEST(ParseJsonError, TypeWithNamespace) {
  auto [code, message] = parse_json_error(
      answer(400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})"));
  EXPECT_EQ(code, "QueueDoesNotExist");
  EXPECT_EQ(message, "The specified queue does not exist.");
}

TEST(ParseJsonError, QueryErrorHeaderWins) {
  auto [code, message] = parse_json_error(
      answer(400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
             {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}}));
  EXPECT_EQ(code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(message, "The specified queue does not exist.");
}

TEST(ParseJsonError, OtherShapes) {
  EXPECT_EQ(parse_json_error(answer(400, R"({"__type":"ThrottlingException","Message":"Rate exceeded"})")),
            (std::pair<std::string, std::string>{"ThrottlingException", "Rate exceeded"}));
  EXPECT_EQ(parse_json_error(answer(400, R"({"__type":"SerializationException:http://internal.amazon.com/x"})")).first,
            "SerializationException");
  // A malformed header (no ';') is ignored, as botocore does.
  EXPECT_EQ(parse_json_error(answer(400, R"({"__type":"a#B"})", {{"x-amzn-query-error", "NoSemicolon"}})).first, "B");
  for (const char* body : {"", "not json", "[]", R"({"message":"no type"})", R"({"__type":7,"message":"x"})"})
    EXPECT_EQ(parse_json_error(answer(500, body)).first, "") << body;
}

TEST_F(JsonClientTest, ErrorNamesServiceOperationCodeAndMessage) {
  http.respond("POST", kUrl, 400, "");
  http.on("POST", kUrl, [](const HttpRequest&) -> Result<HttpResponse> {
    return answer(400,
                  R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
                  {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
                   {"x-amzn-RequestId", "6a0e4b1c-0000-4000-8000-00000000000a"}});
  });
  auto r = client.call("ReceiveMessage", {{"QueueUrl", "https://sqs.us-east-1.amazonaws.com/1/gone"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().message,
            "SQS ReceiveMessage failed: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist. "
            "(HTTP 400, request id 6a0e4b1c-0000-4000-8000-00000000000a)");
  EXPECT_EQ(http.requests().size(), 1u);
  auto calls = stats.calls();
  EXPECT_EQ((calls[{"ReceiveMessage", "AWS.SimpleQueueService.NonExistentQueue"}]), 1u);
}

TEST_F(JsonClientTest, RetriesThrottlingAnd5xxWithBackoff) {
  int n = 0;
  http.on("POST", kUrl, [&](const HttpRequest&) -> Result<HttpResponse> {
    ++n;
    if (n == 1)
      return answer(400, R"({"__type":"com.amazonaws.sqs#RequestThrottled","message":"Rate exceeded"})",
                    {{"x-amzn-query-error", "RequestThrottled;Sender"}});
    if (n == 2) return answer(503, "Service Unavailable");
    return answer(200, "{}");
  });
  auto before = clock.now();
  auto r = client.call("DeleteMessageBatch", nlohmann::json::object());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(n, 3);
  EXPECT_LE(clock.now() - before, std::chrono::milliseconds(300));
  EXPECT_EQ(stats.total_requests(), 3u);
}

TEST_F(JsonClientTest, GivesUpAfterTheAttemptsSayingSo) {
  http.respond("POST", kUrl, 500, R"({"__type":"com.amazonaws.sqs#InternalError","message":"boom"})");
  auto r = client.call("ReceiveMessage", nlohmann::json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(http.requests().size(), 3u);
  EXPECT_TRUE(r.error().message.starts_with("SQS ReceiveMessage failed after 3 attempts: InternalError: boom (HTTP 500"))
      << r.error().message;
}

TEST_F(JsonClientTest, TransportErrorsAreRetried) {
  // Nothing registered: every send fails like a closed port.
  auto r = client.call("ReceiveMessage", nlohmann::json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ConnectionError");
  EXPECT_EQ(http.requests().size(), 3u);
}

}  // namespace
}  // namespace hasg::aws
