// `haproxy-asg discover` against the simulator, as a user runs it: the real binary, the real wire protocol.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "discovery/aws_discovery.h"
#include "sim_env.h"

namespace hasg::test {
namespace {

class DiscoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::SimOptions opt;
    opt.instance_net = 11;
    opt.instance_port = free_port();
    sim_ = std::make_unique<sim::Simulator>(opt);
    ASSERT_TRUE(sim_->start().ok());
    ASSERT_TRUE(sim_->create_group("app", 3).ok());
  }

  CommandResult discover(const std::vector<std::string>& extra = {}, EnvOverrides env = {}) {
    std::vector<std::string> argv = {binary_path("haproxy-asg"), "discover", "--group", "app"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto e = sim_env(*sim_);
    for (auto& [k, v] : env) e[k] = v;
    return run_command(argv, e);
  }

  std::unique_ptr<sim::Simulator> sim_;
};

TEST_F(DiscoverTest, TableListsEveryMemberAndWhyNotServed) {
  auto ids = sim_->instances("app");
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_TRUE(sim_->set_lifecycle(ids[1].id, "Standby").ok());
  auto r = discover();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("group app: 3 instances, 2 served"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(ids[0].id + "   " + ids[0].address), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no: lifecycle state Standby"), std::string::npos) << r.out;
}

TEST_F(DiscoverTest, JsonHasAddressesThatReallyServe) {
  auto r = discover({"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["group"], "app");
  ASSERT_EQ(j["members"].size(), 3u);
  for (const auto& m : j["members"]) {
    EXPECT_TRUE(m["served"].get<bool>());
    std::string addr = m["private_ipv4"];
    EXPECT_TRUE(addr.starts_with("127.11.")) << addr;
    // Each simulated instance really answers on its address, with its id.
    auto body = run_command({"/usr/bin/curl", "-s", "--max-time", "5",
                             "http://" + addr + ":" + std::to_string(sim_->options().instance_port) + "/"});
    EXPECT_EQ(body.out, m["instance_id"].get<std::string>() + "\n");
  }
}

TEST_F(DiscoverTest, ThrottledThenRecovered) {
  sim_->inject({"DescribeAutoScalingGroups", sim::Fault::Kind::Throttle, 2, 0});
  sim_->inject({"DescribeInstances", sim::Fault::Kind::ServerError, 1, 0});
  auto r = discover();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 served"), std::string::npos);
  EXPECT_EQ(sim_->calls("DescribeAutoScalingGroups"), 3u);
  EXPECT_EQ(sim_->calls("DescribeInstances"), 2u);
}

TEST_F(DiscoverTest, ThrottledForeverFailsWithTheAwsError) {
  sim_->inject({"*", sim::Fault::Kind::Throttle, -1, 0});
  auto r = discover();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("DescribeAutoScalingGroups failed after 5 attempts: Throttling: Rate exceeded"),
            std::string::npos)
      << r.err;
}

TEST_F(DiscoverTest, MalformedAnswerIsAClearError) {
  sim_->inject({"DescribeInstances", sim::Fault::Kind::Malformed, 1, 0});
  auto r = discover();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << "no partial answer: " << r.out;
  EXPECT_NE(r.err.find("malformed DescribeInstances answer"), std::string::npos) << r.err;
}

TEST_F(DiscoverTest, WrongSecretSaysSignatureDoesNotMatch) {
  auto r = discover({}, {{"AWS_SECRET_ACCESS_KEY", "not-the-secret"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("SignatureDoesNotMatch"), std::string::npos) << r.err;
}

TEST_F(DiscoverTest, UnknownKeySaysInvalidClientTokenId) {
  auto r = discover({}, {{"AWS_ACCESS_KEY_ID", "AKIDUNKNOWN"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("InvalidClientTokenId"), std::string::npos) << r.err;
}

TEST_F(DiscoverTest, UnknownGroupIsAnError) {
  auto r = run_command({binary_path("haproxy-asg"), "discover", "--group", "nope"}, sim_env(*sim_));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Auto Scaling group 'nope' not found in region us-east-1"), std::string::npos) << r.err;
}

TEST_F(DiscoverTest, NonLoopbackPlainHttpEndpointIsRefused) {
  // Refused before any connection is tried: plain http only for loopback hosts.
  auto r = discover({}, {{"AWS_ENDPOINT_URL", "http://example.invalid:80"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("AWS_ENDPOINT_URL"), std::string::npos) << r.err;
}

TEST_F(DiscoverTest, InstanceProfileCredentialsThroughImdsV2) {
  // No keys in the environment: the chain falls through to IMDS, which the simulator serves.
  auto r = discover({}, {{"AWS_ACCESS_KEY_ID", ""},
                         {"AWS_SECRET_ACCESS_KEY", ""},
                         {"AWS_REGION", ""},
                         {"AWS_EC2_METADATA_DISABLED", ""},
                         {"AWS_EC2_METADATA_SERVICE_ENDPOINT", sim_->url()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 served"), std::string::npos);
}

TEST_F(DiscoverTest, NoCredentialsAnywhereSaysSo) {
  auto r = discover({}, {{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("NoCredentials"), std::string::npos) << r.err;
  EXPECT_EQ(sim_->calls("DescribeAutoScalingGroups"), 0u);
}

// API calls per discovery, cold (empty address cache) and warm, for groups of 1, 100 and 1,000 instances.
TEST(DiscoverApiCalls, OneCallPerWarmCycleForAnySize) {
  for (int size : {1, 100, 1000}) {
    sim::SimOptions opt;
    sim::Simulator sim(opt);
    ASSERT_TRUE(sim.start().ok());
    ASSERT_TRUE(sim.create_group("app", size).ok());
    auto env = std::make_unique<aws::MapEnvironment>();
    for (const auto& [k, v] : sim_env(sim))
      if (!v.empty()) env->set(k, v);
    auto ctx = discovery::AwsDiscovery::from_environment(std::move(env));
    ASSERT_TRUE(ctx.ok()) << ctx.error().message;
    auto cold = (*ctx)->provider().discover({"app"});
    ASSERT_TRUE(cold.ok()) << cold.error().message;
    ASSERT_EQ(cold->at(0).members.size(), static_cast<size_t>(size));
    uint64_t cold_calls = sim.calls("DescribeAutoScalingGroups") + sim.calls("DescribeInstances");
    auto warm = (*ctx)->provider().discover({"app"});
    ASSERT_TRUE(warm.ok());
    EXPECT_EQ(*warm, *cold);
    uint64_t warm_calls = sim.calls("DescribeAutoScalingGroups") + sim.calls("DescribeInstances") - cold_calls;
    // Cold: one DescribeAutoScalingGroups, and DescribeInstances in batches of 200 ids.
    EXPECT_EQ(cold_calls, 1u + static_cast<uint64_t>((size + 199) / 200)) << size;
    EXPECT_EQ(warm_calls, 1u) << size;
    std::cout << "[ calls    ] group of " << size << ": cold " << cold_calls << ", warm " << warm_calls << "\n";
  }
}

}  // namespace
}  // namespace hasg::test
