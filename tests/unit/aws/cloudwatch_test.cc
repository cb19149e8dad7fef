// PutMetricData as haproxy-asg sends it: the Query encoding (checked against botocore's serializer in
// aws_clients_test), UTC timestamps whatever the local time zone, and batches of at most 1,000 datums.
#include "aws/cloudwatch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <map>

#include "fakes.h"

namespace hasg::aws {
namespace {

using test::FakeClock;
using test::FakeHttpClient;
using test::response;

constexpr const char* kUrl = "https://monitoring.us-east-1.amazonaws.com";

MetricDatum datum(std::chrono::system_clock::time_point t) {
  MetricDatum d;
  d.name = "RequestCount";
  d.dimensions = {{"AutoScalingGroupName", "app"}};
  d.timestamp = t;
  d.value = 1;
  d.unit = "Count";
  return d;
}

// A daemon on a box set to Tokyo time still stamps its data in UTC (a local time marked "Z" would land 9 hours
// ahead, which CloudWatch refuses).
TEST(PutMetricDataParams, TimestampsAreUtcWhateverTheLocalZone) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "Asia/Tokyo", 1);
  tzset();
  using namespace std::chrono;
  auto t = sys_days{year{2026} / 12 / 1} + hours{15} + milliseconds{250};
  auto p = put_metric_data_params("HAProxyASG", {datum(t)});
  if (old) setenv("TZ", saved.c_str(), 1); else unsetenv("TZ");
  tzset();
  std::map<std::string, std::string> m(p.begin(), p.end());
  EXPECT_EQ(m["MetricData.member.1.Timestamp"], "2026-12-01T15:00:00.250Z");
  EXPECT_EQ(m["Namespace"], "HAProxyASG");
  EXPECT_EQ(m["MetricData.member.1.Dimensions.member.1.Value"], "app");
}

struct PutMetricDataTest : ::testing::Test {
  FakeHttpClient http;
  FakeClock clock;
  StaticCredentialsProvider creds{Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "test"}};
  RetryPolicy retry{1, std::chrono::milliseconds(1), std::chrono::milliseconds(1), std::chrono::seconds(2)};
  QueryClient client{http, creds, clock,
                     ServiceEndpoint{kUrl, "us-east-1", "monitoring", "2010-08-01", "CloudWatch"}, retry, nullptr};
};

TEST_F(PutMetricDataTest, BatchesOfAThousandAndSaysHowManyWentOut) {
  int calls = 0;
  http.on("POST", std::string(kUrl) + "/", [&](const HttpRequest&) -> Result<HttpResponse> {
    ++calls;
    if (calls == 3) return response(400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>"
                                         "<Message>bad</Message></Error><RequestId>r</RequestId></ErrorResponse>");
    return response(200, "<PutMetricDataResponse/>");
  });
  std::vector<MetricDatum> ds(2500, datum(std::chrono::system_clock::now()));
  size_t sent = 0;
  auto st = put_metric_data(client, "HAProxyASG", ds, &sent);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(sent, 2000u) << "two full batches accepted before the third failed";
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_NE(reqs[0].body.find("MetricData.member.1000.MetricName"), std::string::npos);
  EXPECT_EQ(reqs[0].body.find("MetricData.member.1001."), std::string::npos);
  EXPECT_NE(reqs[2].body.find("MetricData.member.500.MetricName"), std::string::npos);
}

}  // namespace
}  // namespace hasg::aws
