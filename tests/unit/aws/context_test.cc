// The AWS context: one HTTP client and one retry policy per use of AWS (discovery, lifecycle, events, metrics),
// shared credentials, region and statistics, and every endpoint resolved at start.
#include "aws/context.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <thread>

#include "fakes.h"

namespace hasg::aws {
namespace {

using test::FakeClock;
using test::FakeHttpClient;

// Hands each use a client forwarding to the test's fake for that use, so the test sees which client sent what.
class Forward : public HttpClient {
 public:
  explicit Forward(FakeHttpClient& to) : to_(to) {}
  Result<HttpResponse> send(const HttpRequest& r) override { return to_.send(r); }

 private:
  FakeHttpClient& to_;
};

struct ContextTest : ::testing::Test {
  std::map<ClientUse, FakeHttpClient> http;
  std::map<ClientUse, int> made;
  FakeClock clock;

  ContextOptions options() {
    ContextOptions o;
    o.clock = &clock;
    o.make_http = [this](ClientUse use) -> std::unique_ptr<HttpClient> {
      ++made[use];
      return std::make_unique<Forward>(http[use]);
    };
    return o;
  }
  static std::unique_ptr<MapEnvironment> env(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> vars = {{"AWS_REGION", "eu-west-1"},
                                               {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                               {"AWS_SECRET_ACCESS_KEY", "secret"},
                                               {"AWS_EC2_METADATA_DISABLED", "true"}};
    for (auto& [k, v] : extra) vars[k] = v;
    return std::make_unique<MapEnvironment>(vars);
  }
};

TEST_F(ContextTest, EachUseHasItsOwnHttpClientAndTimeouts) {
  auto ctx = AwsContext::from_environment(env(), options());
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  for (auto use : {ClientUse::Discovery, ClientUse::Lifecycle, ClientUse::Events, ClientUse::EventAcks,
                   ClientUse::Metrics, ClientUse::Imds})
    EXPECT_EQ(made[use], 1) << to_string(use);

  http[ClientUse::Discovery].respond("POST", "https://autoscaling.eu-west-1.amazonaws.com/", 200, "<ok/>");
  http[ClientUse::Discovery].respond("POST", "https://ec2.eu-west-1.amazonaws.com/", 200, "<ok/>");
  http[ClientUse::Lifecycle].respond("POST", "https://autoscaling.eu-west-1.amazonaws.com/", 200, "<ok/>");
  http[ClientUse::Metrics].respond("POST", "https://monitoring.eu-west-1.amazonaws.com/", 200, "<ok/>");

  ASSERT_TRUE((*ctx)->discovery_autoscaling().call("DescribeAutoScalingGroups", {}).ok());
  ASSERT_TRUE((*ctx)->discovery_ec2().call("DescribeInstances", {}).ok());
  ASSERT_TRUE((*ctx)->lifecycle().call("CompleteLifecycleAction", {}).ok());
  ASSERT_TRUE((*ctx)->cloudwatch().call("PutMetricData", {}).ok());

  auto discovery = http[ClientUse::Discovery].requests();
  ASSERT_EQ(discovery.size(), 2u);
  EXPECT_EQ(discovery[0].timeout, std::chrono::seconds(10));  // as before the split
  EXPECT_NE(discovery[1].body.find("Version=2016-11-15"), std::string::npos);
  auto lifecycle = http[ClientUse::Lifecycle].requests();
  ASSERT_EQ(lifecycle.size(), 1u);
  EXPECT_EQ(lifecycle[0].timeout, std::chrono::seconds(3));
  EXPECT_NE(lifecycle[0].body.find("Action=CompleteLifecycleAction&Version=2011-01-01"), std::string::npos);
  auto metrics = http[ClientUse::Metrics].requests();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].timeout, std::chrono::seconds(5));
  EXPECT_NE(metrics[0].body.find("Version=2010-08-01"), std::string::npos);
  EXPECT_NE(test::find_header(metrics[0].headers, "Authorization").find("/eu-west-1/monitoring/aws4_request"),
            std::string::npos);
  EXPECT_TRUE(http[ClientUse::Imds].requests().empty());  // IMDS disabled: never asked

  // One ApiStats for every use.
  EXPECT_EQ((*ctx)->stats().calls_of("DescribeAutoScalingGroups"), 1u);
  EXPECT_EQ((*ctx)->stats().calls_of("CompleteLifecycleAction"), 1u);
  EXPECT_EQ((*ctx)->stats().calls_of("PutMetricData"), 1u);
  EXPECT_EQ((*ctx)->stats().total_requests(), 4u);
  EXPECT_EQ((*ctx)->sqs().endpoint().url, "https://sqs.eu-west-1.amazonaws.com");
  EXPECT_EQ((*ctx)->sqs().endpoint().signing_name, "sqs");
  EXPECT_EQ((*ctx)->region(), "eu-west-1");
}

TEST_F(ContextTest, SqsGoesThroughTheEventsClient) {
  auto ctx = AwsContext::from_environment(env(), options());
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  http[ClientUse::Events].respond("POST", "https://sqs.eu-west-1.amazonaws.com/", 200, "{}");
  auto r = (*ctx)->sqs().call("ReceiveMessage", {{"QueueUrl", "https://sqs.eu-west-1.amazonaws.com/1/q"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto events = http[ClientUse::Events].requests();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].timeout, std::chrono::seconds(30));
  EXPECT_EQ(test::find_header(events[0].headers, "X-Amz-Target"), "AmazonSQS.ReceiveMessage");
  EXPECT_TRUE(http[ClientUse::Discovery].requests().empty());
  EXPECT_EQ((*ctx)->stats().calls_of("ReceiveMessage"), 1u);
}

// The point of one client per use: a long poll in flight (here, one that has not answered yet) holds no lock that
// discovery or a lifecycle call needs, the shared credentials included.
TEST_F(ContextTest, LongPollInFlightDoesNotHoldUpOtherUses) {
  auto ctx = AwsContext::from_environment(env(), options());
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  std::promise<void> poll_started, release_poll;
  auto released = release_poll.get_future().share();
  http[ClientUse::Events].on("POST", "https://sqs.eu-west-1.amazonaws.com/",
                             [&](const HttpRequest&) -> Result<HttpResponse> {
                               poll_started.set_value();
                               released.wait();
                               return test::response(200, "{}");
                             });
  http[ClientUse::Discovery].respond("POST", "https://autoscaling.eu-west-1.amazonaws.com/", 200, "<ok/>");
  http[ClientUse::Lifecycle].respond("POST", "https://autoscaling.eu-west-1.amazonaws.com/", 200, "<ok/>");

  std::thread poller([&] { EXPECT_TRUE((*ctx)->sqs().call("ReceiveMessage", {{"WaitTimeSeconds", 20}}).ok()); });
  poll_started.get_future().wait();
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE((*ctx)->discovery_autoscaling().call("DescribeAutoScalingGroups", {}).ok());
    EXPECT_TRUE((*ctx)->lifecycle().call("RecordLifecycleActionHeartbeat", {}).ok());
  }
  EXPECT_EQ((*ctx)->stats().calls_of("ReceiveMessage"), 0u);  // still polling
  release_poll.set_value();
  poller.join();
  EXPECT_EQ((*ctx)->stats().calls_of("ReceiveMessage"), 1u);
  EXPECT_EQ((*ctx)->stats().calls_of("DescribeAutoScalingGroups"), 20u);
}

TEST_F(ContextTest, UsesCallConcurrently) {
  auto ctx = AwsContext::from_environment(env(), options());
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  http[ClientUse::Discovery].respond("POST", "https://autoscaling.eu-west-1.amazonaws.com/", 200, "<ok/>");
  http[ClientUse::Lifecycle].respond("POST", "https://autoscaling.eu-west-1.amazonaws.com/", 200, "<ok/>");
  http[ClientUse::Metrics].respond("POST", "https://monitoring.eu-west-1.amazonaws.com/", 200, "<ok/>");
  http[ClientUse::Events].respond("POST", "https://sqs.eu-west-1.amazonaws.com/", 200, "{}");
  constexpr int kCalls = 200;
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < kCalls; ++i) EXPECT_TRUE((*ctx)->discovery_autoscaling().call("A", {}).ok());
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kCalls; ++i) EXPECT_TRUE((*ctx)->lifecycle().call("B", {}).ok());
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kCalls; ++i) EXPECT_TRUE((*ctx)->cloudwatch().call("C", {}).ok());
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kCalls; ++i) EXPECT_TRUE((*ctx)->sqs().call("D", nlohmann::json::object()).ok());
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ((*ctx)->stats().total_requests(), 4u * kCalls);
  for (const char* op : {"A", "B", "C", "D"}) EXPECT_EQ((*ctx)->stats().calls_of(op), static_cast<uint64_t>(kCalls));
}

TEST_F(ContextTest, EventsTimeoutOutlastsTheLongPoll) {
  ClientPolicies p;
  EXPECT_GT(p.events.request_timeout, std::chrono::seconds(20));
  EXPECT_LT(p.lifecycle.request_timeout, p.discovery.request_timeout);
  EXPECT_LT(p.lifecycle.max_attempts, p.discovery.max_attempts);
}

TEST_F(ContextTest, EndpointOverridesPerServiceAsTheSdksNameThem) {
  auto ctx = AwsContext::from_environment(env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
                                               {"AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324"},
                                               {"AWS_ENDPOINT_URL_CLOUDWATCH", "http://localhost:4583/"}}),
                                          options());
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ((*ctx)->sqs().endpoint().url, "http://127.0.0.1:9324");
  EXPECT_EQ((*ctx)->cloudwatch().endpoint().url, "http://localhost:4583");
  EXPECT_EQ((*ctx)->lifecycle().endpoint().url, "http://127.0.0.1:4566");
  EXPECT_EQ((*ctx)->discovery_ec2().endpoint().url, "http://127.0.0.1:4566");
}

TEST_F(ContextTest, MisconfiguredEndpointIsAnErrorAtStartNamingTheVariable) {
  for (const char* var : {"AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_EC2"}) {
    auto ctx = AwsContext::from_environment(env({{var, "http://10.1.2.3:9324"}}), options());
    ASSERT_FALSE(ctx.ok()) << var;
    EXPECT_EQ(ctx.error().code, "InvalidEndpoint");
    EXPECT_NE(ctx.error().message.find(var), std::string::npos) << ctx.error().message;
  }
  auto bad = AwsContext::from_environment(env({{"AWS_ENDPOINT_URL_SQS", "sqs.example.com"}}), options());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("AWS_ENDPOINT_URL_SQS"), std::string::npos) << bad.error().message;
}

TEST_F(ContextTest, NoRegionIsAnError) {
  auto vars = std::map<std::string, std::string>{{"AWS_EC2_METADATA_DISABLED", "true"},
                                                 {"AWS_CONFIG_FILE", "/nonexistent/config"},
                                                 {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"}};
  auto ctx = AwsContext::from_environment(std::make_unique<MapEnvironment>(vars), options());
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, "NoRegion");
}

}  // namespace
}  // namespace hasg::aws
