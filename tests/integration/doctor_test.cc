// `haproxy-asg doctor` as a user runs it: the real binary against a real HAProxy (master-worker, runtime and master
// sockets) and the AWS simulator (IMDS included), each check's edge seen passing and failing.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim_env.h"
#include "support/haproxy_fixture.h"
#include "unit/sim/sim_client.h"

namespace hasg::test {
namespace {

class DoctorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "no /usr/sbin/haproxy";
    sim_ = std::make_unique<sim::Simulator>(options());
    ASSERT_TRUE(sim_->start().ok());
    ASSERT_TRUE(sim_->create_group("app", 2).ok());
    auto url = sim_->create_queue("events");
    ASSERT_TRUE(url.ok());
    queue_url_ = *url;
    sim::LifecycleHookSpec hook;
    hook.group = "app";
    hook.name = "drain";
    hook.heartbeat_timeout = 120;
    hook.default_result = "CONTINUE";
    ASSERT_TRUE(sim_->put_lifecycle_hook(hook).ok());
  }

  virtual sim::SimOptions options() { return {}; }

  std::string haproxy_config(const std::string& global_extra = "") {
    return (global_extra.empty() ? "" : "global\n" + global_extra) + HaproxyFixture::preamble() +
           "frontend web\n"
           "  bind 127.0.0.1:" + std::to_string(free_port()) + "\n"
           "  default_backend app\n"
           "backend app\n"
           "  balance roundrobin\n";
  }

  // The YAML: the fixture's haproxy.cfg is the template; `backend_extra` goes under the backend.
  std::string yaml(const std::string& backend_extra = "    lifecycle_hooks: {terminating: drain}\n",
                   const std::string& extra = "", const std::string& template_path = "") {
    std::string y = "haproxy:\n"
                    "  template: " + (template_path.empty() ? haproxy_.config_path() : template_path) + "\n"
                    "  config: " + dir_.file("haproxy.cfg") + "\n"
                    "  runtime_socket: " + runtime_socket_ + "\n"
                    "  master_socket: " + haproxy_.master_socket() + "\n"
                    "backends:\n"
                    "  - backend: app\n"
                    "    group: app\n"
                    "    port: 80\n"
                    "    server_options: check inter 2s\n" + backend_extra + extra;
    write_file(dir_.file("haproxy-asg.yaml"), y);
    return dir_.file("haproxy-asg.yaml");
  }

  struct Outcome {
    int exit_code;
    nlohmann::json checks;
    std::string err;
    const nlohmann::json& check(const std::string& id) const {
      for (const auto& c : checks)
        if (c["check"] == id) return c;
      static const nlohmann::json none = {{"status", "ABSENT"}, {"found", ""}, {"fix", ""}};
      return none;
    }
    std::string status(const std::string& id) const { return check(id)["status"].get<std::string>(); }
  };

  Outcome doctor(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {binary_path("haproxy-asg"), "doctor", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto env = sim_env(*sim_);
    env["AWS_EC2_METADATA_DISABLED"] = "";
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = sim_->url();
    auto r = run_command(argv, env);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_array()) << r.out << r.err;
    return {r.exit_code, j.is_array() ? j : nlohmann::json::array(), r.err};
  }

  std::unique_ptr<sim::Simulator> sim_;
  std::string queue_url_;
  HaproxyFixture haproxy_;
  TempDir dir_;
  std::string runtime_socket_ = haproxy_.admin_socket();
};

TEST_F(DoctorTest, AllGoodExitsZero) {
  ASSERT_TRUE(haproxy_.start(haproxy_config())) << haproxy_.log();
  auto o = doctor({"--config", yaml("    lifecycle_hooks: {terminating: drain}\n    health_feedback: {}\n",
                                     "events:\n  queue_url: " + queue_url_ + "\ncloudwatch: {}\n")});
  EXPECT_EQ(o.exit_code, 0) << o.checks.dump(2);
  for (const auto& c : o.checks) EXPECT_NE(c["status"], "FAIL") << c.dump();
  EXPECT_EQ(o.status("config"), "PASS");
  EXPECT_EQ(o.status("haproxy.version"), "PASS");
  EXPECT_EQ(o.status("haproxy.backend app"), "PASS");
  EXPECT_EQ(o.status("haproxy.runtime_socket"), "PASS");
  EXPECT_EQ(o.status("haproxy.master_socket"), "PASS");
  EXPECT_NE(o.check("haproxy.master_socket")["found"].get<std::string>().find(
                "master pid " + std::to_string(haproxy_.master_pid())),
            std::string::npos)
      << o.check("haproxy.master_socket");
  EXPECT_EQ(o.status("limits.nofile"), "PASS") << o.check("limits.nofile");
  EXPECT_EQ(o.status("aws.credentials"), "PASS");
  EXPECT_EQ(o.status("aws.imds"), "PASS") << o.check("aws.imds");
  EXPECT_NE(o.check("aws.imds")["found"].get<std::string>().find("HttpTokens required, hop limit 2"),
            std::string::npos);
  for (const char* p : {"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances",
                        "autoscaling:DescribeLifecycleHooks", "autoscaling:CompleteLifecycleAction",
                        "autoscaling:RecordLifecycleActionHeartbeat", "autoscaling:SetInstanceHealth",
                        "cloudwatch:PutMetricData", "sqs:ReceiveMessage", "sqs:DeleteMessage"})
    EXPECT_EQ(o.status(std::string("aws.permission ") + p), "PASS") << o.check(std::string("aws.permission ") + p);
  EXPECT_EQ(o.status("aws.group app"), "PASS");
  EXPECT_EQ(o.status("aws.hooks app"), "PASS");
  EXPECT_EQ(o.status("aws.events_queue"), "PASS");
  // The probes acted on nothing: no instance reported, no lifecycle action completed.
  EXPECT_TRUE(sim_->health_reports().empty());
  EXPECT_TRUE(sim_->metric_data().empty()) << "the PutMetricData probe stores nothing";
  EXPECT_TRUE(sim_->lifecycle_actions().empty());
}

TEST_F(DoctorTest, GroupWithoutTerminationHookWarnsAndStillExitsZero) {
  ASSERT_TRUE(haproxy_.start(haproxy_config())) << haproxy_.log();
  auto o = doctor({"--config", yaml("")});
  EXPECT_EQ(o.exit_code, 0) << o.checks.dump(2);
  EXPECT_EQ(o.status("aws.hooks app"), "WARN");
  EXPECT_NE(o.check("aws.hooks app")["found"].get<std::string>().find("68 to 165 of 3,500"), std::string::npos);
  EXPECT_NE(o.check("aws.hooks app")["fix"].get<std::string>().find("put-lifecycle-hook"), std::string::npos);
}

TEST_F(DoctorTest, MissingHookAndQueueFail) {
  ASSERT_TRUE(haproxy_.start(haproxy_config())) << haproxy_.log();
  const std::string missing_queue = queue_url_.substr(0, queue_url_.rfind('/')) + "/no-such-queue";
  auto o = doctor({"--config", yaml("    lifecycle_hooks: {terminating: nope}\n",
                                     "events:\n  queue_url: " + missing_queue + "\n")});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.status("aws.hooks app"), "FAIL");
  EXPECT_EQ(o.status("aws.events_queue"), "FAIL") << o.check("aws.events_queue");
  EXPECT_NE(o.check("aws.events_queue")["fix"].get<std::string>().find("aws sqs create-queue --queue-name no-such-queue"),
            std::string::npos);
  EXPECT_EQ(o.status("aws.permission sqs:ReceiveMessage"), "SKIP");
}

TEST_F(DoctorTest, DeniedCallsFailWithThePolicyLine) {
  ASSERT_TRUE(haproxy_.start(haproxy_config())) << haproxy_.log();
  for (const char* action : {"DescribeLifecycleHooks", "DescribeInstances", "ReceiveMessage", "PutMetricData"})
    sim_->inject({action, sim::Fault::Kind::Deny, -1, 0});
  auto o = doctor({"--config", yaml("    lifecycle_hooks: {terminating: drain}\n",
                                     "events:\n  queue_url: " + queue_url_ + "\ncloudwatch: {namespace: HAProxyASG}\n")});
  EXPECT_EQ(o.exit_code, 1);
  auto hooks = o.check("aws.permission autoscaling:DescribeLifecycleHooks");
  EXPECT_EQ(hooks["status"], "FAIL") << hooks;
  EXPECT_NE(hooks["found"].get<std::string>().find("AccessDenied"), std::string::npos) << hooks;
  EXPECT_NE(hooks["fix"].get<std::string>().find("\"autoscaling:DescribeLifecycleHooks\""), std::string::npos);
  auto ec2 = o.check("aws.permission ec2:DescribeInstances");
  EXPECT_EQ(ec2["status"], "FAIL");
  EXPECT_NE(ec2["found"].get<std::string>().find("UnauthorizedOperation"), std::string::npos) << ec2;
  auto sqs = o.check("aws.permission sqs:ReceiveMessage");
  EXPECT_EQ(sqs["status"], "FAIL");
  EXPECT_NE(sqs["found"].get<std::string>().find("AccessDenied"), std::string::npos) << sqs;
  auto cw = o.check("aws.permission cloudwatch:PutMetricData");
  EXPECT_EQ(cw["status"], "FAIL") << cw;
  EXPECT_NE(cw["found"].get<std::string>().find("AccessDenied"), std::string::npos) << cw;
  // What cannot be known behind a denial is skipped, not failed twice.
  EXPECT_EQ(o.status("aws.hooks app"), "SKIP");
  EXPECT_EQ(o.status("aws.events_queue"), "SKIP");
  // The permissions not denied still pass.
  EXPECT_EQ(o.status("aws.permission autoscaling:CompleteLifecycleAction"), "PASS");
  EXPECT_EQ(o.status("aws.permission sqs:DeleteMessage"), "PASS");
}

// cluster: the drain records' CreateTags and DescribeTags, probed with EC2's DryRun: allowed, EC2 answers
// DryRunOperation and writes nothing; denied, UnauthorizedOperation.
TEST_F(DoctorTest, ClusterTagPermissionsAreProbedWithDryRun) {
  ASSERT_TRUE(haproxy_.start(haproxy_config())) << haproxy_.log();
  ASSERT_TRUE(sim_->create_group("lb", 1).ok());
  const std::string node = sim_->instances("lb").front().id;
  const std::string cfg = yaml("", "cluster:\n  group: lb\n  node_id: " + node + "\n");
  auto o = doctor({"--config", cfg});
  EXPECT_EQ(o.exit_code, 0) << o.checks.dump(2);
  for (const char* p : {"ec2:DescribeTags", "ec2:CreateTags"}) {
    auto c = o.check(std::string("aws.permission ") + p);
    EXPECT_EQ(c["status"], "PASS") << c;
    EXPECT_NE(c["found"].get<std::string>().find("answered DryRunOperation"), std::string::npos) << c;
  }
  EXPECT_NE(o.check("aws.permission ec2:CreateTags")["found"].get<std::string>().find(
                "haproxy-asg:drained:" + node + " on " + node),
            std::string::npos);
  EXPECT_EQ(sim_->calls("CreateTags"), 1u);
  sim::test::SimClient client(*sim_);
  auto tags = client.query("ec2", "DescribeTags", {{"Filter.1.Name", "resource-id"}, {"Filter.1.Value.1", node}},
                           "2016-11-15");
  ASSERT_EQ(tags.status, 200) << tags.body;
  EXPECT_EQ(tags.body.find("haproxy-asg:drained:"), std::string::npos) << "a dry run writes no tag: " << tags.body;

  sim_->inject({"CreateTags", sim::Fault::Kind::Deny, -1, 0});
  sim_->inject({"DescribeTags", sim::Fault::Kind::Deny, -1, 0});
  o = doctor({"--config", cfg});
  EXPECT_EQ(o.exit_code, 1);
  for (const char* p : {"ec2:DescribeTags", "ec2:CreateTags"}) {
    auto c = o.check(std::string("aws.permission ") + p);
    EXPECT_EQ(c["status"], "FAIL") << c;
    EXPECT_NE(c["found"].get<std::string>().find("UnauthorizedOperation"), std::string::npos) << c;
    EXPECT_NE(c["fix"].get<std::string>().find(std::string("\"") + p + "\""), std::string::npos) << c;
  }
  // Without cluster: neither is probed.
  sim_->clear_faults();
  o = doctor({"--config", yaml("")});
  EXPECT_EQ(o.status("aws.permission ec2:CreateTags"), "ABSENT");
  EXPECT_EQ(o.status("aws.permission ec2:DescribeTags"), "ABSENT");
}

TEST_F(DoctorTest, OperatorLevelSocketAndNoMasterFail) {
  ASSERT_TRUE(haproxy_.start(haproxy_config("  stats socket " + haproxy_.dir() + "/oper.sock mode 600 level operator\n")))
      << haproxy_.log();
  runtime_socket_ = haproxy_.dir() + "/oper.sock";
  std::string config = yaml();
  auto o = doctor({"--config", config});
  EXPECT_EQ(o.status("haproxy.runtime_socket"), "FAIL") << o.check("haproxy.runtime_socket");
  EXPECT_NE(o.check("haproxy.runtime_socket")["found"].get<std::string>().find("level operator"), std::string::npos);
  EXPECT_NE(o.check("haproxy.runtime_socket")["fix"].get<std::string>().find("level admin"), std::string::npos);
  EXPECT_EQ(o.exit_code, 1);
  haproxy_.stop();  // now neither socket answers
  o = doctor({"--config", config});
  EXPECT_EQ(o.status("haproxy.runtime_socket"), "FAIL");
  EXPECT_NE(o.check("haproxy.runtime_socket")["found"].get<std::string>().find("HAProxy is not running"),
            std::string::npos);
  EXPECT_EQ(o.status("haproxy.master_socket"), "FAIL");
}

TEST_F(DoctorTest, MaxconnAboveTheMastersHardLimitFails) {
  ASSERT_TRUE(haproxy_.start(haproxy_config())) << haproxy_.log();
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard descriptor limit here";
  // The template HAProxy would restart with: maxconn equal to the hard limit needs twice as many descriptors.
  const std::string tmpl = dir_.file("big.cfg.template");
  write_file(tmpl, haproxy_config("  maxconn " + std::to_string(rl.rlim_max) + "\n"));
  auto o = doctor({"--config", yaml("    lifecycle_hooks: {terminating: drain}\n", "", tmpl)});
  auto c = o.check("limits.nofile");
  EXPECT_EQ(c["status"], "FAIL") << c;
  EXPECT_NE(c["found"].get<std::string>().find("Cannot raise FD limit to " + std::to_string(2 * rl.rlim_max)),
            std::string::npos)
      << c;
  EXPECT_EQ(o.exit_code, 1);
}

TEST_F(DoctorTest, WithoutConfigurationChecksWhatItCanAndSaysTheRestWasSkipped) {
  auto o = doctor({});
  EXPECT_EQ(o.status("config"), "SKIP");
  EXPECT_EQ(o.status("haproxy.version"), "PASS");
  EXPECT_EQ(o.status("aws.credentials"), "PASS");
  EXPECT_EQ(o.status("aws.imds"), "PASS");
  EXPECT_EQ(o.status("haproxy.runtime_socket"), "SKIP");
  EXPECT_EQ(o.status("aws.permission ec2:DescribeInstances"), "ABSENT");
}

class DoctorImdsv1Test : public DoctorTest {
  sim::SimOptions options() override {
    sim::SimOptions o;
    o.imds_http_tokens = "optional";
    return o;
  }
};

TEST_F(DoctorImdsv1Test, ImdsV1AllowedWarns) {
  ASSERT_TRUE(haproxy_.start(haproxy_config())) << haproxy_.log();
  auto o = doctor({"--config", yaml()});
  EXPECT_EQ(o.status("aws.imds"), "WARN") << o.check("aws.imds");
  EXPECT_EQ(o.check("aws.imds")["fix"], "aws ec2 modify-instance-metadata-options --instance-id i-0ba1ba1ba1ba1ba10 "
                                         "--http-tokens required");
  EXPECT_EQ(o.exit_code, 0);
}

}  // namespace
}  // namespace hasg::test
