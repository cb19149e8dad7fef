// The address cache of the Auto Scaling provider: an instance is described once while it runs; it is asked about
// again when Auto Scaling calls it unhealthy (its EC2 state may have changed), dropped when EC2 says it is no longer
// running or when it left every group, and kept untouched when a describe call fails.
#include "discovery/asg_provider.h"

#include <gtest/gtest.h>

#include <set>

#include "unit/aws/fakes.h"

namespace hasg::discovery {
namespace {

using aws::test::response;

constexpr const char* kAsgUrl = "https://autoscaling.us-east-1.amazonaws.com/";
constexpr const char* kEc2Url = "https://ec2.us-east-1.amazonaws.com/";

struct Member {
  std::string id, lifecycle = "InService", health = "Healthy";
};

std::string groups_xml(const std::vector<Member>& members, const std::string& request_id = "") {
  std::string xml = "<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult><AutoScalingGroups><member>"
                    "<AutoScalingGroupName>app</AutoScalingGroupName><Instances>";
  for (const auto& m : members)
    xml += "<member><InstanceId>" + m.id + "</InstanceId><AvailabilityZone>us-east-1a</AvailabilityZone>"
           "<LifecycleState>" + m.lifecycle + "</LifecycleState><HealthStatus>" + m.health +
           "</HealthStatus></member>";
  xml += "</Instances></member></AutoScalingGroups></DescribeAutoScalingGroupsResult>";
  if (!request_id.empty())
    xml += "<ResponseMetadata><RequestId>" + request_id + "</RequestId></ResponseMetadata>";
  return xml + "</DescribeAutoScalingGroupsResponse>";
}

// The ids a DescribeInstances request asked about (Filter.1.Value.N).
std::set<std::string> asked(const aws::HttpRequest& req) {
  std::set<std::string> out;
  size_t pos = 0;
  while ((pos = req.body.find("Filter.1.Value.", pos)) != std::string::npos) {
    size_t eq = req.body.find('=', pos), amp = req.body.find('&', pos);
    out.insert(req.body.substr(eq + 1, (amp == std::string::npos ? req.body.size() : amp) - eq - 1));
    pos = eq;
  }
  return out;
}

class AddressCache : public ::testing::Test {
 protected:
  aws::test::FakeHttpClient http;
  aws::test::FakeClock clock;
  aws::StaticCredentialsProvider creds{aws::Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "test"}};
  aws::RetryPolicy retry{1, std::chrono::milliseconds(1), std::chrono::milliseconds(1), std::chrono::seconds(1)};
  aws::QueryClient asg{http, creds, clock, {kAsgUrl, "us-east-1", "autoscaling", "2011-01-01", "Auto Scaling"}, retry};
  aws::QueryClient ec2{http, creds, clock, {kEc2Url, "us-east-1", "ec2", "2016-11-15", "EC2"}, retry};
  AsgProvider provider{asg, ec2};

  std::map<std::string, std::string> ec2_state;  // id -> EC2 state name the fake answers
  std::vector<std::set<std::string>> describes;  // each DescribeInstances' ids
  bool ec2_fails = false;

  void SetUp() override {
    http.on("POST", kEc2Url, [this](const aws::HttpRequest& req) -> Result<aws::HttpResponse> {
      if (ec2_fails)
        return response(503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "
                             "exceeded.</Message></Error></Errors></Response>");
      describes.push_back(asked(req));
      std::string xml = "<DescribeInstancesResponse><reservationSet><item><instancesSet>";
      for (const auto& id : describes.back())
        xml += "<item><instanceId>" + id + "</instanceId><instanceState><name>" + ec2_state[id] +
               "</name></instanceState><privateIpAddress>127.180.0." + id.substr(id.size() - 1) +
               "</privateIpAddress></item>";
      return response(200, xml + "</instancesSet></item></reservationSet></DescribeInstancesResponse>");
    });
  }
  void group(const std::vector<Member>& members) { http.respond("POST", kAsgUrl, 200, groups_xml(members)); }
  std::set<std::string> served() {
    auto r = provider.discover({"app"});
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::set<std::string> out;
    if (r)
      for (const auto& m : r->at(0).members)
        if (m.served) out.insert(m.instance_id);
    return out;
  }
};

TEST_F(AddressCache, ARunningInstanceIsDescribedOnce) {
  ec2_state = {{"i-00000001", "running"}, {"i-00000002", "running"}};
  group({{"i-00000001"}, {"i-00000002"}});
  EXPECT_EQ(served(), (std::set<std::string>{"i-00000001", "i-00000002"}));
  EXPECT_EQ(served(), (std::set<std::string>{"i-00000001", "i-00000002"}));
  ASSERT_EQ(describes.size(), 1u);
  EXPECT_EQ(provider.cached_addresses(), 2u);
}

TEST_F(AddressCache, AnUnhealthyMemberIsAskedAboutAgainAndEvictedOnceItStopped) {
  ec2_state = {{"i-00000001", "running"}, {"i-00000002", "running"}};
  group({{"i-00000001"}, {"i-00000002"}});
  ASSERT_EQ(served().size(), 2u);
  ec2_state["i-00000002"] = "stopped";
  group({{"i-00000001"}, {"i-00000002", "InService", "Unhealthy"}});
  EXPECT_EQ(served(), (std::set<std::string>{"i-00000001"}));
  ASSERT_EQ(describes.size(), 2u);
  EXPECT_EQ(describes[1], (std::set<std::string>{"i-00000002"})) << "only the unhealthy one is asked about again";
  EXPECT_EQ(provider.cached_addresses(), 1u) << "a stopped instance leaves the cache";
  served();
  EXPECT_EQ(describes.size(), 3u) << "not cached: asked about again while it is not running";
}

// An EC2 state-change event (the events queue) names a member: its cached `running` is forgotten and EC2 is asked
// again, even though Auto Scaling's answer is byte for byte the same (the members handed out again unparsed were
// made from the forgotten entry).
TEST_F(AddressCache, AForgottenMemberIsAskedAboutAgainUnderAnUnchangedAnswer) {
  ec2_state = {{"i-00000001", "running"}, {"i-00000002", "running"}};
  group({{"i-00000001"}, {"i-00000002"}});
  ASSERT_EQ(served().size(), 2u);
  ASSERT_EQ(served().size(), 2u);
  const auto generation = provider.generation();
  ec2_state["i-00000002"] = "stopping";
  EXPECT_EQ(served().size(), 2u) << "without the event, a healthy member's EC2 state is not asked again";
  EXPECT_EQ(describes.size(), 1u);
  EXPECT_EQ(provider.generation(), generation);

  provider.forget({"i-00000002", "i-0000000f"});  // one not a member: nothing to forget
  EXPECT_EQ(served(), (std::set<std::string>{"i-00000001"}));
  ASSERT_EQ(describes.size(), 2u);
  EXPECT_EQ(describes[1], (std::set<std::string>{"i-00000002"})) << "only the forgotten one is asked about";
  EXPECT_NE(provider.generation(), generation);
  // Started again: running, cached, served.
  ec2_state["i-00000002"] = "running";
  EXPECT_EQ(served().size(), 2u);
  EXPECT_EQ(provider.cached_addresses(), 2u);
  // Forgetting only what is not cached leaves the unchanged answer's members as they were (handed out again).
  EXPECT_EQ(served().size(), 2u);
  const auto size = describes.size();
  const auto steady = provider.generation();
  EXPECT_EQ(served().size(), 2u);
  ASSERT_EQ(provider.generation(), steady) << "the unchanged answer's members handed out again";
  provider.forget({"i-0000000f"});
  EXPECT_EQ(served().size(), 2u);
  EXPECT_EQ(describes.size(), size);
  EXPECT_EQ(provider.generation(), steady);
}

TEST_F(AddressCache, AnInstanceThatLeftEveryGroupIsForgotten) {
  ec2_state = {{"i-00000001", "running"}, {"i-00000002", "running"}};
  group({{"i-00000001"}, {"i-00000002"}});
  ASSERT_EQ(served().size(), 2u);
  group({{"i-00000001"}});
  EXPECT_EQ(served(), (std::set<std::string>{"i-00000001"}));
  EXPECT_EQ(provider.cached_addresses(), 1u);
  // Back in the group (a test can do what EC2 never does): described again, not taken from a stale entry.
  group({{"i-00000001"}, {"i-00000002"}});
  EXPECT_EQ(served().size(), 2u);
  EXPECT_EQ(describes.size(), 2u);
}

TEST_F(AddressCache, AFailedDescribeFailsDiscoveryAndKeepsTheCache) {
  ec2_state = {{"i-00000001", "running"}, {"i-00000002", "running"}, {"i-00000003", "running"}};
  group({{"i-00000001"}, {"i-00000002"}});
  ASSERT_EQ(served().size(), 2u);
  ec2_fails = true;
  group({{"i-00000003"}});  // i-1 and i-2 left, i-3 is new: its address cannot be had
  auto r = provider.discover({"app"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "RequestLimitExceeded");
  EXPECT_EQ(provider.cached_addresses(), 2u) << "nothing is forgotten on a failed discovery";
  ec2_fails = false;
  EXPECT_EQ(served(), (std::set<std::string>{"i-00000003"}));
  EXPECT_EQ(provider.cached_addresses(), 1u);
}

// A steady cycle: the same answer (but for its RequestId) gives the same members again, without asking EC2; any
// change in the answer is seen at once, and an unhealthy member keeps being asked about.
TEST_F(AddressCache, AnUnchangedAnswerGivesTheSameMembersAndAnyChangeIsSeen) {
  ec2_state = {{"i-00000001", "running"}, {"i-00000002", "running"}};
  http.respond("POST", kAsgUrl, 200, groups_xml({{"i-00000001"}, {"i-00000002"}}, "req-1"));
  auto first = provider.discover({"app"});
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto first_generation = provider.generation();
  ASSERT_TRUE(first_generation.has_value());
  http.respond("POST", kAsgUrl, 200, groups_xml({{"i-00000001"}, {"i-00000002"}}, "req-2"));
  auto again = provider.discover({"app"});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *first);
  // The first discovery asked EC2 (its members are made of that answer too): made again from the cache, once.
  const auto cached_generation = provider.generation();
  EXPECT_NE(cached_generation, first_generation);
  http.respond("POST", kAsgUrl, 200, groups_xml({{"i-00000001"}, {"i-00000002"}}, "req-2b"));
  auto third = provider.discover({"app"});
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(*third, *first);
  EXPECT_EQ(provider.generation(), cached_generation) << "the same answer, the same members: the same generation";
  EXPECT_EQ(describes.size(), 1u);
  // Another group asked for: not the same question, so not the same answer either.
  auto wider = provider.discover({"app", "other"});
  ASSERT_TRUE(wider.ok());
  ASSERT_EQ(wider->size(), 2u);
  EXPECT_FALSE(wider->at(1).found);

  http.respond("POST", kAsgUrl, 200,
               groups_xml({{"i-00000001"}, {"i-00000002", "Terminating:Wait"}}, "req-3"));
  EXPECT_EQ(served(), (std::set<std::string>{"i-00000001"}));
  EXPECT_NE(provider.generation(), cached_generation) << "other members: another generation";
  http.respond("POST", kAsgUrl, 200,
               groups_xml({{"i-00000001"}, {"i-00000002", "Terminating:Wait"}}, "req-4"));
  EXPECT_EQ(served(), (std::set<std::string>{"i-00000001"}));
  // Unhealthy: asked about at every cycle, whatever the answer.
  http.respond("POST", kAsgUrl, 200, groups_xml({{"i-00000001", "InService", "Unhealthy"}}, "req-5"));
  served();
  http.respond("POST", kAsgUrl, 200, groups_xml({{"i-00000001", "InService", "Unhealthy"}}, "req-6"));
  served();
  ASSERT_EQ(describes.size(), 3u);
  EXPECT_EQ(describes[2], (std::set<std::string>{"i-00000001"}));
}

}  // namespace
}  // namespace hasg::discovery
