// The Query client's contract: signed form POSTs, retries with capped full-jitter backoff on throttling, 5xx and
// timeouts only, clear errors, call statistics; and the paginating, batching describe calls on top of it.
#include <gtest/gtest.h>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "aws/query_client.h"
#include "fakes.h"

namespace hasg::aws {
namespace {

using test::FakeClock;
using test::FakeHttpClient;
using test::find_header;
using test::response;

constexpr const char* kUrl = "https://autoscaling.us-east-1.amazonaws.com";

std::string asg_error(const std::string& code, const std::string& message) {
  return "<ErrorResponse><Error><Type>Sender</Type><Code>" + code + "</Code><Message>" + message +
         "</Message></Error><RequestId>r</RequestId></ErrorResponse>";
}

struct QueryClientTest : ::testing::Test {
  FakeHttpClient http;
  FakeClock clock;
  StaticCredentialsProvider creds{Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "test"}};
  ApiStats stats;
  RetryPolicy retry{4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), std::chrono::seconds(2)};
  QueryClient client{http, creds, clock,
                     ServiceEndpoint{kUrl, "us-east-1", "autoscaling", "2011-01-01", "Auto Scaling"}, retry, &stats};
};

TEST_F(QueryClientTest, SendsSignedFormPost) {
  http.respond("POST", std::string(kUrl) + "/", 200, "<ok/>");
  auto r = client.call("DescribeAutoScalingGroups", {{"AutoScalingGroupNames.member.1", "my app"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "<ok/>");
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames.member.1=my%20app");
  EXPECT_EQ(find_header(reqs[0].headers, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  std::string auth = find_header(reqs[0].headers, "Authorization");
  EXPECT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/autoscaling/aws4_request"))
      << auth;
  EXPECT_EQ(find_header(reqs[0].headers, "X-Amz-Date"), "20261124T060000Z");
  EXPECT_EQ(reqs[0].timeout, std::chrono::seconds(2));
}

TEST_F(QueryClientTest, RetriesThrottlingWithCappedJitterThenSucceeds) {
  int n = 0;
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest&) -> Result<HttpResponse> {
    return ++n <= 2 ? response(400, asg_error("Throttling", "Rate exceeded")) : response(200, "<ok/>");
  });
  auto before = clock.now();
  auto r = client.call("DescribeAutoScalingGroups", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(n, 3);
  // Two sleeps, each at most min(cap, base * 2^k): 100 ms then 200 ms.
  EXPECT_LE(clock.now() - before, std::chrono::milliseconds(300));
  EXPECT_EQ(stats.calls().at({"DescribeAutoScalingGroups", "ok"}), 1u);
  EXPECT_EQ(stats.total_requests(), 3u);
}

TEST_F(QueryClientTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  http.respond("POST", std::string(kUrl) + "/", 500, asg_error("InternalFailure", "An internal error occurred."));
  auto r = client.call("DescribeAutoScalingGroups", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(http.requests().size(), 4u);
  EXPECT_EQ(r.error().code, "InternalFailure");
  EXPECT_NE(r.error().message.find("Auto Scaling DescribeAutoScalingGroups failed after 4 attempts"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("An internal error occurred. (HTTP 500"), std::string::npos);
  EXPECT_EQ(stats.calls().at({"DescribeAutoScalingGroups", "InternalFailure"}), 1u);
}

TEST_F(QueryClientTest, DoesNotRetryClientErrors) {
  http.respond("POST", std::string(kUrl) + "/", 403,
               asg_error("SignatureDoesNotMatch", "The request signature we calculated does not match"));
  auto r = client.call("DescribeAutoScalingGroups", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(http.requests().size(), 1u);
  EXPECT_EQ(r.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.error().message,
            "Auto Scaling DescribeAutoScalingGroups failed: SignatureDoesNotMatch: The request signature we "
            "calculated does not match (HTTP 403)");
}

TEST_F(QueryClientTest, RetriesTransportFailures) {
  int n = 0;
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest&) -> Result<HttpResponse> {
    if (++n == 1) return make_error("RequestTimeout", "no answer within 2000 ms", true);
    return response(200, "<ok/>");
  });
  EXPECT_TRUE(client.call("DescribeAutoScalingGroups", {}).ok());
  EXPECT_EQ(n, 2);
}

TEST_F(QueryClientTest, NonXmlErrorPageIsReportedWithStatus) {
  http.respond("POST", std::string(kUrl) + "/", 404, "Not Found");
  auto r = client.call("DescribeAutoScalingGroups", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "HttpError");
  EXPECT_NE(r.error().message.find("unexpected HTTP 404 answer: Not Found"), std::string::npos);
}

// Both of AWS's error documents, and the mix some AWS-compatible endpoints send, give the code and message, as
// botocore's QueryParser reads them (any root, an <Errors> level unwrapped); a namespace changes nothing.
TEST(ParseErrorBody, EveryShapeGivesCodeAndMessage) {
  using P = std::pair<std::string, std::string>;
  const P want{"Throttling", "Rate exceeded"};
  EXPECT_EQ(parse_error_body("<ErrorResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\"><Error>"
                             "<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                             "<RequestId>r</RequestId></ErrorResponse>"),
            want);
  EXPECT_EQ(parse_error_body("<Response><Errors><Error><Code>Throttling</Code><Message>Rate exceeded</Message>"
                             "</Error></Errors><RequestID>r</RequestID></Response>"),
            want);
  EXPECT_EQ(parse_error_body("<ErrorResponse><Errors><Error><Code>Throttling</Code><Message>Rate exceeded"
                             "</Message></Error></Errors><RequestId>r</RequestId></ErrorResponse>"),
            want);
  EXPECT_EQ(parse_error_body("<Response><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                             "</Response>"),
            want);
}

TEST(ParseErrorBody, WhatIsNotAnErrorDocumentHasNoCode) {
  EXPECT_EQ(parse_error_body("Not Found").first, "");
  EXPECT_EQ(parse_error_body("<html><body>502 Bad Gateway</body></html>").first, "");
  EXPECT_EQ(parse_error_body("<ErrorResponse><Error><Message>no code</Message></Error></ErrorResponse>").first, "");
  EXPECT_EQ(parse_error_body("<ErrorResponse><Errors><Error><Code>Throttl").first, "");  // cut short
}

TEST_F(QueryClientTest, TheMixedErrorShapeIsRetriedAsThrottling) {
  int n = 0;
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest&) -> Result<HttpResponse> {
    if (++n == 1)
      return response(400, "<ErrorResponse><Errors><Error><Code>Throttling</Code><Message>Rate exceeded</Message>"
                           "</Error></Errors></ErrorResponse>");
    return response(200, "<ok/>");
  });
  EXPECT_TRUE(client.call("DescribeAutoScalingGroups", {}).ok());
  EXPECT_EQ(n, 2);
}

// Credentials AWS calls expired are forgotten and the call is tried once more with the chain's next ones.
TEST_F(QueryClientTest, ExpiredCredentialsAreRefetchedOnceAndTheCallRetried) {
  struct Rotating : CredentialsProvider {
    int generation = 0;
    Result<Credentials> get() override {
      return Credentials{"AKID" + std::to_string(generation), "secret", "", std::nullopt, "test"};
    }
    void invalidate() override { ++generation; }
  } rotating;
  QueryClient c{http, rotating, clock,
                ServiceEndpoint{kUrl, "us-east-1", "autoscaling", "2011-01-01", "Auto Scaling"}, retry, &stats};
  std::vector<std::string> keys;
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest& req) -> Result<HttpResponse> {
    std::string auth = find_header(req.headers, "Authorization");
    keys.push_back(auth.substr(auth.find("Credential=") + 11, 5));
    if (keys.back() == "AKID0")
      return response(403, asg_error("ExpiredToken", "The security token included in the request is expired"));
    return response(200, "<ok/>");
  });
  ASSERT_TRUE(c.call("DescribeAutoScalingGroups", {}).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"AKID0", "AKID1"}));

  // Refused again with the fresh ones: an error, after one refetch only.
  http.respond("POST", std::string(kUrl) + "/", 403, asg_error("InvalidClientTokenId", "The security token is invalid"));
  auto r = c.call("DescribeAutoScalingGroups", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidClientTokenId");
  EXPECT_EQ(rotating.generation, 2);
}

// Every finished call, once, with its endpoint and outcome: what the daemon's fault reporting hears.
TEST_F(QueryClientTest, TheListenerHearsEachFinishedCallOnce) {
  std::vector<std::string> heard;
  stats.set_listener([&](const CallOutcome& o) {
    heard.push_back(o.endpoint.signing_name + " " + o.operation + " " + (o.error ? o.error->code : "ok"));
  });
  int n = 0;
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest&) -> Result<HttpResponse> {
    if (++n <= 2) return response(400, asg_error("Throttling", "Rate exceeded"));
    return response(200, "<ok/>");
  });
  ASSERT_TRUE(client.call("DescribeAutoScalingGroups", {}).ok());
  http.respond("POST", std::string(kUrl) + "/", 403, asg_error("AccessDenied", "not authorized"));
  ASSERT_FALSE(client.call("CompleteLifecycleAction", {}).ok());
  EXPECT_EQ(heard, (std::vector<std::string>{"autoscaling DescribeAutoScalingGroups ok",
                                             "autoscaling CompleteLifecycleAction AccessDenied"}));
}

std::string asg_page(const std::vector<std::string>& groups, const std::string& token) {
  std::string xml = "<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult><AutoScalingGroups>";
  for (const auto& g : groups) xml += "<member><AutoScalingGroupName>" + g + "</AutoScalingGroupName></member>";
  xml += "</AutoScalingGroups>";
  if (!token.empty()) xml += "<NextToken>" + token + "</NextToken>";
  return xml + "</DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>";
}

TEST_F(QueryClientTest, DescribeGroupsFollowsNextTokenAndChunksNamesByFifty) {
  std::vector<std::string> names;
  for (int i = 0; i < 120; ++i) names.push_back("g" + std::to_string(i));
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest& req) -> Result<HttpResponse> {
    // The first chunk is answered in two pages.
    if (req.body.find("NextToken=t1") != std::string::npos) return response(200, asg_page({"g1"}, ""));
    if (req.body.find("member.1=g0&") != std::string::npos) return response(200, asg_page({"g0"}, "t1"));
    if (req.body.find("member.1=g50&") != std::string::npos) return response(200, asg_page({"g50"}, ""));
    return response(200, asg_page({"g100"}, ""));
  });
  auto groups = describe_auto_scaling_groups(client, names);
  ASSERT_TRUE(groups.ok()) << groups.error().message;
  ASSERT_EQ(groups->size(), 4u);
  EXPECT_EQ((*groups)[1].name, "g1");
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_NE(reqs[0].body.find("member.50=g49&MaxRecords=100"), std::string::npos);
  EXPECT_EQ(reqs[0].body.find("member.51="), std::string::npos);
  EXPECT_NE(reqs[3].body.find("member.20=g119&"), std::string::npos);
}

// A steady cycle's answer: the same bytes as last time (its RequestId aside) are not parsed again; anything else is,
// every page of it, in order.
TEST_F(QueryClientTest, DescribeGroupsParsesNothingWhenTheAnswerIsTheSameAsLastTime) {
  std::vector<std::string> names;
  for (int i = 0; i < 60; ++i) names.push_back("g" + std::to_string(i));
  int call = 0;
  std::string second_chunk = "g50";
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest& req) -> Result<HttpResponse> {
    std::string page = req.body.find("member.1=g0&") != std::string::npos ? asg_page({"g0"}, "")
                                                                          : asg_page({second_chunk}, "");
    // The RequestId differs at every call, as AWS's does.
    const std::string meta = "<ResponseMetadata><RequestId>r" + std::to_string(++call) + "</RequestId></ResponseMetadata>";
    page.insert(page.rfind("</DescribeAutoScalingGroupsResponse>"), meta);
    return response(200, page);
  });
  AsgAnswerMemo first, second, third, fourth;
  auto a = describe_auto_scaling_groups(client, names, nullptr, first);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(a->has_value());
  ASSERT_EQ((*a)->size(), 2u);
  EXPECT_EQ(first.pages.size(), 2u);
  EXPECT_TRUE(first.reusable);

  auto b = describe_auto_scaling_groups(client, names, &first, second);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_FALSE(b->has_value()) << "the same answer: nothing parsed";
  EXPECT_EQ(second.pages, first.pages);

  // The second page changes: both pages are parsed, in order.
  second_chunk = "g51";
  auto c = describe_auto_scaling_groups(client, names, &second, third);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->has_value());
  ASSERT_EQ((*c)->size(), 2u);
  EXPECT_EQ((*c)->at(0).name, "g0");
  EXPECT_EQ((*c)->at(1).name, "g51");

  // Other names asked for: parsed, even if the bytes were the same.
  std::vector<std::string> fewer(names.begin(), names.end() - 1);
  auto d = describe_auto_scaling_groups(client, fewer, &third, fourth);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->has_value());
}

TEST_F(QueryClientTest, DescribeGroupsAlwaysParsesAnAnswerThatCarriedANextToken) {
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest& req) -> Result<HttpResponse> {
    if (req.body.find("NextToken=t1") != std::string::npos) return response(200, asg_page({"b"}, ""));
    return response(200, asg_page({"a"}, "t1"));
  });
  AsgAnswerMemo first, second;
  auto a = describe_auto_scaling_groups(client, {"a", "b"}, nullptr, first);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_FALSE(first.reusable);
  auto b = describe_auto_scaling_groups(client, {"a", "b"}, &first, second);
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_TRUE(b->has_value()) << "a token may differ at every call: parsed";
  EXPECT_EQ((*b)->size(), 2u);
}

TEST_F(QueryClientTest, DescribeInstancesBatchesIdsInAFilter) {
  std::vector<std::string> ids;
  for (int i = 0; i < 450; ++i) ids.push_back("i-" + std::to_string(i));
  http.respond("POST", std::string(kUrl) + "/", 200,
               "<DescribeInstancesResponse><reservationSet/></DescribeInstancesResponse>");
  auto r = describe_instances(client, ids, 200);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_NE(reqs[0].body.find("Filter.1.Name=instance-id&Filter.1.Value.1=i-0&"), std::string::npos);
  EXPECT_NE(reqs[0].body.find("Filter.1.Value.200=i-199&MaxResults=1000"), std::string::npos);
  EXPECT_NE(reqs[2].body.find("Filter.1.Value.50=i-449&"), std::string::npos);
}

}  // namespace
}  // namespace hasg::aws
