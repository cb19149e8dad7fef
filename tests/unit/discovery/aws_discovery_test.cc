// The discovery holder: the Auto Scaling provider runs on the context's discovery clients only.
#include "discovery/aws_discovery.h"

#include <gtest/gtest.h>

#include "unit/aws/fakes.h"

namespace hasg::discovery {
namespace {

TEST(AwsDiscovery, ProviderUsesTheDiscoveryClient) {
  aws::test::FakeClock clock;
  std::map<aws::ClientUse, aws::test::FakeHttpClient> http;
  struct Forward : aws::HttpClient {
    explicit Forward(aws::test::FakeHttpClient& f) : to(f) {}
    Result<aws::HttpResponse> send(const aws::HttpRequest& r) override { return to.send(r); }
    aws::test::FakeHttpClient& to;
  };
  aws::ContextOptions o;
  o.clock = &clock;
  o.make_http = [&](aws::ClientUse use) -> std::unique_ptr<aws::HttpClient> {
    return std::make_unique<Forward>(http[use]);
  };
  auto env = std::make_unique<aws::MapEnvironment>(std::map<std::string, std::string>{
      {"AWS_REGION", "us-east-1"},
      {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
      {"AWS_SECRET_ACCESS_KEY", "secret"},
      {"AWS_EC2_METADATA_DISABLED", "true"}});
  auto d = AwsDiscovery::from_environment(std::move(env), o);
  ASSERT_TRUE(d.ok()) << d.error().message;
  http[aws::ClientUse::Discovery].respond(
      "POST", "https://autoscaling.us-east-1.amazonaws.com/", 200,
      "<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult><AutoScalingGroups/>"
      "</DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>");
  auto groups = (*d)->provider().discover({"app"});
  ASSERT_TRUE(groups.ok()) << groups.error().message;
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_FALSE(groups->at(0).found);
  EXPECT_EQ(http[aws::ClientUse::Discovery].requests().size(), 1u);
  EXPECT_TRUE(http[aws::ClientUse::Lifecycle].requests().empty());
  EXPECT_EQ((*d)->stats().calls_of("DescribeAutoScalingGroups"), 1u);
  EXPECT_EQ(&(*d)->stats(), &(*d)->aws().stats());
}

}  // namespace
}  // namespace hasg::discovery
