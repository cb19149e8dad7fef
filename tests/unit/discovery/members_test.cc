// Which members are served, and why not: the pure assembly of Auto Scaling's and EC2's views.
#include <gtest/gtest.h>

#include "discovery/members.h"

namespace hasg::discovery {
namespace {

TEST(AssembleMembers, ServedOnlyWhenInServiceRunningAndAddressed) {
  std::vector<aws::AutoScalingGroup> groups = {{"app", 0, 10, 6,
                                                {{"i-00000001", "us-east-1a", "InService", "Healthy"},
                                                 {"i-00000002", "us-east-1a", "Pending", "Healthy"},
                                                 {"i-00000003", "us-east-1b", "Standby", "Healthy"},
                                                 {"i-00000004", "us-east-1b", "InService", "Healthy"},
                                                 {"i-00000005", "us-east-1c", "InService", "Unhealthy"},
                                                 {"i-00000006", "us-east-1c", "Terminating:Wait", "Healthy"},
                                                 {"i-00000007", "us-east-1c", "InService", "Healthy"},
                                                 {"i-00000008", "us-east-1a", "InService", "Healthy"}}}};
  std::map<std::string, aws::Ec2Instance> ec2 = {
      {"i-00000001", {"i-00000001", "running", "127.0.0.2", "", "us-east-1a"}},
      {"i-00000004", {"i-00000004", "stopped", "127.0.0.5", "", "us-east-1b"}},
      {"i-00000005", {"i-00000005", "running", "127.0.0.6", "", "us-east-1c"}},
      {"i-00000007", {"i-00000007", "running", "", "::1", "us-east-1c"}},
      {"i-00000008", {"i-00000008", "running", "", "", "us-east-1a"}},
  };
  auto out = assemble_members({"app", "missing"}, groups, ec2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[1].found);
  EXPECT_TRUE(out[1].members.empty());
  ASSERT_TRUE(out[0].found);
  std::map<std::string, std::string> why;
  for (const auto& m : out[0].members) why[m.instance_id] = m.served ? "served" : m.not_served_reason;
  EXPECT_EQ(why, (std::map<std::string, std::string>{{"i-00000001", "served"},
                                                      {"i-00000002", "lifecycle state Pending"},
                                                      {"i-00000003", "lifecycle state Standby"},
                                                      {"i-00000004", "instance stopped"},
                                                      // Auto Scaling's health is its own business: an InService
                                                      // instance it calls Unhealthy is about to be replaced;
                                                      // HAProxy's own checks decide whether it gets traffic.
                                                      {"i-00000005", "served"},
                                                      {"i-00000006", "lifecycle state Terminating:Wait"},
                                                      {"i-00000007", "served"},
                                                      {"i-00000008", "no private address"}}));
  const auto& first = out[0].members[0];
  EXPECT_EQ(first, (core::Member{"i-00000001", "app", "InService", "Healthy", "us-east-1a", "running", "127.0.0.2", "",
                                 true, ""}));
  EXPECT_TRUE(out[0].refused.empty());
}

TEST(AssembleMembers, InServiceButUnknownToEc2IsNotServed) {
  auto out = assemble_members({"g"}, {{"g", 0, 1, 1, {{"i-00000009", "z", "InService", "Healthy"}}}},
                              std::map<std::string, aws::Ec2Instance>{});
  ASSERT_EQ(out[0].members.size(), 1u);
  EXPECT_FALSE(out[0].members[0].served);
  EXPECT_EQ(out[0].members[0].not_served_reason, "not listed by EC2");
}

// Hostile values from AWS: an id or address that would break or inject into haproxy.cfg or a runtime command is
// refused, listed with its field, and the rest of the group is served.
TEST(AssembleMembers, RefusesIdsNotInEc2sFormat) {
  const std::string injected = "i-00000002\nshutdown sessions server app/i-00000001";
  auto out = assemble_members({"g"},
                              {{"g", 0, 4, 4,
                                {{"i-00000001", "z", "InService", "Healthy"},
                                 {injected, "z", "InService", "Healthy"},
                                 {"i-00000003 #", "z", "InService", "Healthy"},
                                 {"i-00000004;disable server app/i-00000001", "z", "InService", "Healthy"}}}},
                              std::map<std::string, aws::Ec2Instance>{
                                  {"i-00000001", {"i-00000001", "running", "127.0.0.2", "", "z"}},
                                  {injected, {injected, "running", "127.0.0.3", "", "z"}}});
  ASSERT_EQ(out[0].members.size(), 1u);
  EXPECT_EQ(out[0].members[0].instance_id, "i-00000001");
  EXPECT_TRUE(out[0].members[0].served);
  ASSERT_EQ(out[0].refused.size(), 3u);
  EXPECT_EQ(out[0].refused[0], (core::RefusedValue{injected, "InstanceId", injected,
                                                   "not an instance id (i- and 8 or 17 hex digits)"}));
  EXPECT_EQ(out[0].refused[1].value, "i-00000003 #");
  EXPECT_EQ(out[0].refused[2].field, "InstanceId");
}

TEST(AssembleMembers, RefusesAddressesThatDoNotParse) {
  auto out = assemble_members(
      {"g"},
      {{"g", 0, 4, 4,
        {{"i-00000001", "z", "InService", "Healthy"},
         {"i-00000002", "z", "InService", "Healthy"},
         {"i-00000003", "z", "InService", "Healthy"},
         {"i-00000004", "z", "InService", "Healthy"}}}},
      std::map<std::string, aws::Ec2Instance>{
          {"i-00000001", {"i-00000001", "running", "127.0.0.2", "", "z"}},
          {"i-00000002", {"i-00000002", "running", "127.0.0.3\nserver evil 127.0.0.9:80", "", "z"}},
          {"i-00000003", {"i-00000003", "running", "127.0.0.4 backup", "::1 #", "z"}},
          {"i-00000004", {"i-00000004", "running", "127.0.0.5", "::1%eth0", "z"}}});
  ASSERT_EQ(out[0].members.size(), 4u);
  std::map<std::string, std::string> why;
  for (const auto& m : out[0].members) why[m.instance_id] = m.served ? "served" : m.not_served_reason;
  EXPECT_EQ(why, (std::map<std::string, std::string>{
                     {"i-00000001", "served"},
                     {"i-00000002", "refused PrivateIpAddress (not an IP address)"},
                     {"i-00000003", "refused PrivateIpAddress and Ipv6Address (not an IP address)"},
                     {"i-00000004", "served"}}));  // on its IPv4 address; the IPv6 one is dropped
  EXPECT_EQ(out[0].members[1].private_ipv4, "");
  EXPECT_EQ(out[0].members[3].private_ipv4, "127.0.0.5");
  EXPECT_EQ(out[0].members[3].ipv6, "");
  std::vector<std::string> fields;
  for (const auto& r : out[0].refused) fields.push_back(r.instance_id + " " + r.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"i-00000002 PrivateIpAddress", "i-00000003 PrivateIpAddress",
                                              "i-00000003 Ipv6Address", "i-00000004 Ipv6Address"}));
}

}  // namespace
}  // namespace hasg::discovery
