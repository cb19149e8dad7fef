#include "doctor/permissions.h"

#include <gtest/gtest.h>

namespace hasg::doctor {
namespace {

std::vector<std::string> actions(const std::vector<PermissionNeed>& needs) {
  std::vector<std::string> out;
  for (const auto& n : needs) out.push_back(n.action);
  return out;
}

TEST(DoctorPermissions, DiscoveryOnly) {
  config::Config cfg;
  cfg.backends.push_back({});
  cfg.backends[0].backend = "app";
  EXPECT_EQ(actions(permissions_needed(cfg)),
            (std::vector<std::string>{"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"}));
}

TEST(DoctorPermissions, EveryFeatureAddsItsCalls) {
  config::Config cfg;
  cfg.backends.resize(2);
  cfg.backends[0].backend = "a";
  cfg.backends[0].hook_terminating = "drain";
  cfg.backends[1].backend = "b";
  cfg.backends[1].hook_launching = "launch";
  cfg.backends[1].health_feedback = true;
  cfg.events_queue_url = "http://127.0.0.1:1/123456789012/q";
  cfg.cloudwatch.enabled = true;
  auto needs = permissions_needed(cfg);
  EXPECT_EQ(actions(needs),
            (std::vector<std::string>{"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances",
                                      "autoscaling:DescribeLifecycleHooks", "autoscaling:CompleteLifecycleAction",
                                      "autoscaling:RecordLifecycleActionHeartbeat", "autoscaling:SetInstanceHealth",
                                      "cloudwatch:PutMetricData", "sqs:ReceiveMessage", "sqs:DeleteMessage"}));
  EXPECT_EQ(needs[2].why, "lifecycle_hooks of backend a, lifecycle_hooks of backend b");
}

TEST(DoctorPermissions, ClusterAddsTheDrainRecordsTagCalls) {
  config::Config cfg;
  cfg.backends.push_back({});
  cfg.backends[0].backend = "app";
  cfg.cluster.group = "lb";
  auto needs = permissions_needed(cfg);
  EXPECT_EQ(actions(needs), (std::vector<std::string>{"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances",
                                                      "ec2:DescribeTags", "ec2:CreateTags"}));
  EXPECT_EQ(needs[3].why, "cluster");
}

TEST(DoctorPermissions, Verdicts) {
  PermissionNeed need{"autoscaling:CompleteLifecycleAction", "lifecycle_hooks of backend app"};
  EXPECT_EQ(check_permission(need, Probe{"call", std::nullopt, {}}).status, Verdict::Pass);
  EXPECT_EQ(check_permission(need, Probe{"call", Failure{"NoActiveLifecycleAction", "none"}, {"NoActiveLifecycleAction"}})
                .status,
            Verdict::Pass);
  auto r = check_permission(need, Probe{"call", Failure{"AccessDenied", "User: x is not authorized"}, {}});
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(r.fix.find("\"autoscaling:CompleteLifecycleAction\"") != std::string::npos) << r.fix;
  EXPECT_EQ(check_permission(need, Probe{"call", Failure{"UnauthorizedOperation", "no"}, {}}).status, Verdict::Fail);
  EXPECT_EQ(check_permission(need, Probe{"call", Failure{"QueueDoesNotExist", "no"}, {}}).status, Verdict::Skip);
  // A harmless code only counts for the probe that expects it.
  EXPECT_EQ(check_permission(need, Probe{"call", Failure{"ValidationError", "bad"}, {}}).status, Verdict::Fail);
}

}  // namespace
}  // namespace hasg::doctor
