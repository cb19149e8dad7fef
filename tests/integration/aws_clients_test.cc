// The simulator speaks AWS's wire format: Debian's awscli and boto3 (real botocore parsers and signers) pointed at
// it must sign requests it accepts and parse every answer it gives, errors and pagination included.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "sim_env.h"

namespace hasg::test {
namespace {

class AwsClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/bin/aws")) GTEST_SKIP() << "Debian's awscli is not installed";
    sim::SimOptions opt;
    opt.instance_net = 12;
    sim_ = std::make_unique<sim::Simulator>(opt);
    ASSERT_TRUE(sim_->start().ok());
    ASSERT_TRUE(sim_->create_group("app", 3).ok());
    env_ = sim_env(*sim_);
    env_["HOME"] = tmp_.path();  // no user config, no CLI cache
    env_["AWS_PAGER"] = "";
  }

  CommandResult aws(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", sim_->url(), "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, env_, std::chrono::seconds(60));
  }

  CommandResult python(const std::string& script) {
    return run_command({"/usr/bin/python3", "-c", script}, env_, std::chrono::seconds(60));
  }

  TempDir tmp_;
  std::unique_ptr<sim::Simulator> sim_;
  EnvOverrides env_;
};

TEST_F(AwsClientsTest, AwscliDescribesGroups) {
  auto r = aws({"autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "app"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["AutoScalingGroups"].size(), 1u);
  const auto& g = j["AutoScalingGroups"][0];
  EXPECT_EQ(g["AutoScalingGroupName"], "app");
  EXPECT_EQ(g["DesiredCapacity"], 3);
  ASSERT_EQ(g["Instances"].size(), 3u);
  auto sim_instances = sim_->instances("app");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(g["Instances"][i]["InstanceId"], sim_instances[i].id);
    EXPECT_EQ(g["Instances"][i]["LifecycleState"], "InService");
    EXPECT_EQ(g["Instances"][i]["ProtectedFromScaleIn"], false);  // parsed as a boolean, not a string
  }
}

TEST_F(AwsClientsTest, AwscliDescribesInstances) {
  auto sim_instances = sim_->instances("app");
  auto r = aws({"ec2", "describe-instances", "--instance-ids", sim_instances[0].id, sim_instances[2].id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["Reservations"].size(), 2u);
  const auto& inst = j["Reservations"][0]["Instances"][0];
  EXPECT_EQ(inst["InstanceId"], sim_instances[0].id);
  EXPECT_EQ(inst["PrivateIpAddress"], sim_instances[0].address);
  EXPECT_EQ(inst["State"]["Name"], "running");
  EXPECT_EQ(inst["State"]["Code"], 16);
  EXPECT_EQ(inst["Placement"]["AvailabilityZone"], sim_instances[0].zone);
}

TEST_F(AwsClientsTest, AwscliReadsErrorDocuments) {
  env_["AWS_SECRET_ACCESS_KEY"] = "wrong";
  auto r = aws({"autoscaling", "describe-auto-scaling-groups"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("An error occurred (SignatureDoesNotMatch) when calling the DescribeAutoScalingGroups"),
            std::string::npos)
      << r.err;
  r = aws({"ec2", "describe-instances"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("An error occurred (AuthFailure) when calling the DescribeInstances operation"),
            std::string::npos)
      << r.err;
}

TEST_F(AwsClientsTest, AwscliSeesThrottlingAfterItsRetries) {
  sim_->inject({"DescribeInstances", sim::Fault::Kind::Throttle, -1, 0});
  env_["AWS_MAX_ATTEMPTS"] = "2";
  auto r = aws({"ec2", "describe-instances"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("RequestLimitExceeded"), std::string::npos) << r.err;
}

TEST_F(AwsClientsTest, Boto3PaginatesGroupsAndInstances) {
  for (int i = 0; i < 120; ++i) ASSERT_TRUE(sim_->create_group("g" + std::to_string(i), 2).ok());
  auto r = python(R"(
import boto3, json, os
kw = dict(endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
asg = boto3.client('autoscaling', **kw)
pages = list(asg.get_paginator('describe_auto_scaling_groups').paginate(PaginationConfig={'PageSize': 50}))
groups = [g['AutoScalingGroupName'] for p in pages for g in p['AutoScalingGroups']]
ec2 = boto3.client('ec2', **kw)
ipages = list(ec2.get_paginator('describe_instances').paginate(
    Filters=[{'Name': 'instance-state-name', 'Values': ['running']}], PaginationConfig={'PageSize': 100}))
ids = [i['InstanceId'] for p in ipages for r in p['Reservations'] for i in r['Instances']]
print(json.dumps({'group_pages': len(pages), 'groups': len(groups), 'distinct': len(set(groups)),
                  'instance_pages': len(ipages), 'instances': len(ids), 'distinct_ids': len(set(ids))}))
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["groups"], 121);
  EXPECT_EQ(j["distinct"], 121);
  EXPECT_EQ(j["group_pages"], 3);
  EXPECT_EQ(j["instances"], 243);
  EXPECT_EQ(j["distinct_ids"], 243);
  EXPECT_EQ(j["instance_pages"], 3);
}

TEST_F(AwsClientsTest, BotocoreGetsInstanceProfileCredentialsFromSimulatedImds) {
  env_["AWS_ACCESS_KEY_ID"] = "";
  env_["AWS_SECRET_ACCESS_KEY"] = "";
  env_["AWS_EC2_METADATA_DISABLED"] = "";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = sim_->url() + "/";
  auto r = python(R"(
import boto3, os
s = boto3.session.Session(region_name='us-east-1')
c = s.get_credentials()
asg = s.client('autoscaling', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
n = len(asg.describe_auto_scaling_groups()['AutoScalingGroups'])
print(c.method, c.access_key[:4], n)
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "iam-role ASIA 1\n");
}

}  // namespace
}  // namespace hasg::test
