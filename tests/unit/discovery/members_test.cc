// Which members are served, and why not: the pure assembly of Auto Scaling's and EC2's views.
#include <gtest/gtest.h>

#include "discovery/members.h"

namespace hasg::discovery {
namespace {

TEST(AssembleMembers, ServedOnlyWhenInServiceRunningAndAddressed) {
  std::vector<aws::AutoScalingGroup> groups = {{"app", 0, 10, 6,
                                                {{"i-1", "us-east-1a", "InService", "Healthy"},
                                                 {"i-2", "us-east-1a", "Pending", "Healthy"},
                                                 {"i-3", "us-east-1b", "Standby", "Healthy"},
                                                 {"i-4", "us-east-1b", "InService", "Healthy"},
                                                 {"i-5", "us-east-1c", "InService", "Unhealthy"},
                                                 {"i-6", "us-east-1c", "Terminating:Wait", "Healthy"},
                                                 {"i-7", "us-east-1c", "InService", "Healthy"},
                                                 {"i-8", "us-east-1a", "InService", "Healthy"}}}};
  std::map<std::string, aws::Ec2Instance> ec2 = {
      {"i-1", {"i-1", "running", "127.0.0.2", "", "us-east-1a"}},
      {"i-4", {"i-4", "stopped", "127.0.0.5", "", "us-east-1b"}},
      {"i-5", {"i-5", "running", "127.0.0.6", "", "us-east-1c"}},
      {"i-7", {"i-7", "running", "", "::1", "us-east-1c"}},
      {"i-8", {"i-8", "running", "", "", "us-east-1a"}},
  };
  auto out = assemble_members({"app", "missing"}, groups, ec2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[1].found);
  EXPECT_TRUE(out[1].members.empty());
  ASSERT_TRUE(out[0].found);
  std::map<std::string, std::string> why;
  for (const auto& m : out[0].members) why[m.instance_id] = m.served ? "served" : m.not_served_reason;
  EXPECT_EQ(why, (std::map<std::string, std::string>{{"i-1", "served"},
                                                      {"i-2", "lifecycle state Pending"},
                                                      {"i-3", "lifecycle state Standby"},
                                                      {"i-4", "instance stopped"},
                                                      // Auto Scaling's health is its own business: an InService
                                                      // instance it calls Unhealthy is about to be replaced;
                                                      // HAProxy's own checks decide whether it gets traffic.
                                                      {"i-5", "served"},
                                                      {"i-6", "lifecycle state Terminating:Wait"},
                                                      {"i-7", "served"},
                                                      {"i-8", "no private address"}}));
  const auto& first = out[0].members[0];
  EXPECT_EQ(first, (core::Member{"i-1", "app", "InService", "Healthy", "us-east-1a", "running", "127.0.0.2", "", true,
                                 ""}));
}

TEST(AssembleMembers, InServiceButUnknownToEc2IsNotServed) {
  auto out = assemble_members({"g"}, {{"g", 0, 1, 1, {{"i-9", "z", "InService", "Healthy"}}}},
                              std::map<std::string, aws::Ec2Instance>{});
  ASSERT_EQ(out[0].members.size(), 1u);
  EXPECT_FALSE(out[0].members[0].served);
  EXPECT_EQ(out[0].members[0].not_served_reason, "not listed by EC2");
}

}  // namespace
}  // namespace hasg::discovery
