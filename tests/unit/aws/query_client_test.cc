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
