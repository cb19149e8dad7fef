// Every doctor check's verdict from values: passing, warning and failing.
#include "doctor/checks.h"

#include <gtest/gtest.h>

namespace hasg::doctor {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

RuntimeSocket running(long maxconn = 5000, long ulimit_n = 10041) {
  RuntimeSocket rt;
  rt.path = "/run/haproxy/admin.sock";
  rt.level = "admin";
  rt.version = "2.6.12-1+deb12u4";
  rt.maxconn = maxconn;
  rt.ulimit_n = ulimit_n;
  return rt;
}

TEST(DoctorVersion, ParsesMajorMinor) {
  EXPECT_EQ(major_minor("2.6.12-1+deb12u4"), (std::pair{2, 6}));
  EXPECT_EQ(major_minor("HAProxy version 3.0.5-1 2024/09/19"), (std::pair{3, 0}));
  EXPECT_EQ(major_minor("2.10.1"), (std::pair{2, 10}));
  EXPECT_EQ(major_minor("no version"), std::nullopt);
}

TEST(DoctorVersion, PassFailWarn) {
  HaproxyBinary b{"/usr/sbin/haproxy", "2.6.12-1+deb12u4", std::nullopt};
  EXPECT_EQ(check_version(b, running()).status, Verdict::Pass);
  EXPECT_EQ(check_version(b, RuntimeSocket{}).status, Verdict::Pass);

  HaproxyBinary old{"/usr/sbin/haproxy", "2.4.22-1", std::nullopt};
  auto r = check_version(old, RuntimeSocket{});
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.found, "needs 2.6 or later")) << r.found;

  HaproxyBinary missing{"/opt/haproxy", "", Failure{"SpawnError", "cannot run /opt/haproxy: No such file"}};
  r = check_version(missing, RuntimeSocket{});
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.fix, "apt-get install haproxy"));

  HaproxyBinary upgraded{"/usr/sbin/haproxy", "2.6.13-1", std::nullopt};
  r = check_version(upgraded, running());
  EXPECT_EQ(r.status, Verdict::Warn);
  EXPECT_TRUE(has(r.fix, "systemctl restart haproxy"));
}

ProxyConfig proxies_with(ProxyConfig::Backend b) {
  ProxyConfig p;
  p.path = "/etc/haproxy/haproxy.cfg.template";
  p.backends.push_back(std::move(b));
  return p;
}

config::BackendConfig backend(std::string options = "check inter 2s") {
  config::BackendConfig b;
  b.backend = "app";
  b.group = "app-asg";
  b.server_options = std::move(options);
  return b;
}

TEST(DoctorBackend, DynamicAlgorithmsPass) {
  EXPECT_EQ(check_backend(backend(), proxies_with({"app", "roundrobin", "map-based"})).status, Verdict::Pass);
  EXPECT_EQ(check_backend(backend(), proxies_with({"app", "leastconn", "map-based"})).status, Verdict::Pass);
  EXPECT_EQ(check_backend(backend(), proxies_with({"app", "source", "consistent"})).status, Verdict::Pass);
}

TEST(DoctorBackend, StaticAlgorithmsFail) {
  auto r = check_backend(backend(), proxies_with({"app", "static-rr", "map-based"}));
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.fix, "balance roundrobin"));
  r = check_backend(backend(), proxies_with({"app", "hdr(host)", "map-based"}));
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.fix, "hash-type consistent")) << r.fix;
}

TEST(DoctorBackend, OptionsAddServerRefusesFail) {
  auto r = check_backend(backend("check cookie s1 inter 2s"), proxies_with({"app", "roundrobin", "map-based"}));
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.found, "`cookie`")) << r.found;
  EXPECT_TRUE(has(r.fix, "remove `cookie`"));
}

TEST(DoctorBackend, MissingSectionFails) {
  auto r = check_backend(backend(), proxies_with({"other", "roundrobin", "map-based"}));
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.fix, "backend app"));
}

TEST(DoctorRuntimeSocket, Verdicts) {
  EXPECT_EQ(check_runtime_socket(RuntimeSocket{}).status, Verdict::Skip);
  EXPECT_EQ(check_runtime_socket(running()).status, Verdict::Pass);
  auto op = running();
  op.level = "operator";
  auto r = check_runtime_socket(op);
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.fix, "stats socket /run/haproxy/admin.sock mode 660 level admin")) << r.fix;
  RuntimeSocket down;
  down.path = "/run/haproxy/admin.sock";
  down.error = Failure{"HaproxyNotRunning", "no such file"};
  r = check_runtime_socket(down);
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.found, "HAProxy is not running"));
}

TEST(DoctorMasterSocket, Verdicts) {
  EXPECT_EQ(check_master_socket(MasterSocket{}).status, Verdict::Warn);
  MasterSocket m;
  m.path = "/run/haproxy-master.sock";
  m.master_pid = 10;
  m.workers = 1;
  EXPECT_EQ(check_master_socket(m).status, Verdict::Pass);
  m.error = Failure{"HaproxyNotRunning", "refused"};
  auto r = check_master_socket(m);
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.fix, "-W -S /run/haproxy-master.sock"));
}

FdLimits limits(long unit_limit) {
  FdLimits l;
  l.nr_open = 1048576;
  l.file_max = 2470878;
  l.unit = "haproxy.service";
  l.unit_limit = unit_limit;
  return l;
}

TEST(DoctorFdLimits, RunningHaproxyWithinTheLimitPasses) {
  auto r = check_fd_limits(limits(524288), running(), ProxyConfig{});
  EXPECT_EQ(r.status, Verdict::Pass) << r.found;
  EXPECT_TRUE(has(r.found, "10041")) << r.found;
}

TEST(DoctorFdLimits, MaxconnAboveTheHardLimitFails) {
  ProxyConfig p;
  p.path = "haproxy.cfg";
  p.global_maxconn = 20000;
  auto r = check_fd_limits(limits(20000), RuntimeSocket{}, p);
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.found, "Cannot raise FD limit to 40000, limit is 20000")) << r.found;
  EXPECT_TRUE(has(r.fix, "LimitNOFILE=40960")) << r.fix;
  // Without systemd, the running master's hard limit is the one a restart keeps.
  FdLimits by_hand;
  by_hand.process_limit = 20000;
  EXPECT_EQ(check_fd_limits(by_hand, RuntimeSocket{}, p).status, Verdict::Fail);
  // Above fs.nr_open as well: the sysctl comes first.
  auto tight = limits(20000);
  tight.nr_open = 30000;
  r = check_fd_limits(tight, RuntimeSocket{}, p);
  EXPECT_TRUE(has(r.fix, "sysctl -w fs.nr_open=40960")) << r.fix;
}

TEST(DoctorFdLimits, UnitLimitAboveNrOpenFails) {
  auto l = limits(2000000);
  auto r = check_fd_limits(l, running(), ProxyConfig{});
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.fix, "fs.nr_open=2000000"));
}

TEST(DoctorFdLimits, AboveFileMaxWarns) {
  auto l = limits(524288);
  l.file_max = 8000;
  EXPECT_EQ(check_fd_limits(l, running(), ProxyConfig{}).status, Verdict::Warn);
}

TEST(DoctorFdLimits, NoMaxconnPassesAndUnknownLimitSkips) {
  EXPECT_EQ(check_fd_limits(limits(1024), RuntimeSocket{}, ProxyConfig{}).status, Verdict::Pass);
  ProxyConfig p;
  p.global_maxconn = 1000;
  EXPECT_EQ(check_fd_limits(FdLimits{}, RuntimeSocket{}, p).status, Verdict::Skip);
}

TEST(DoctorNet, BacklogAgainstSomaxconn) {
  ProxyConfig p;
  p.path = "haproxy.cfg";
  p.listeners = {{"fe", 0, ""}, {"api", 1000, "bind backlog"}};
  NetLimits n;
  n.somaxconn = 4096;
  EXPECT_EQ(check_backlog(n, running(2000), p).status, Verdict::Pass);
  auto r = check_backlog(n, running(20000), p);
  EXPECT_EQ(r.status, Verdict::Warn);
  EXPECT_TRUE(has(r.found, "fe backlog 20000 (global maxconn)")) << r.found;
  EXPECT_TRUE(has(r.fix, "net.core.somaxconn=20000"));
  EXPECT_EQ(check_backlog(NetLimits{}, running(), p).status, Verdict::Skip);
}

TEST(DoctorNet, EphemeralPortsAgainstMaxconn) {
  NetLimits n;
  n.ephemeral_ports = std::pair{32768L, 60999L};
  EXPECT_EQ(check_ephemeral_ports(n, running(5000), ProxyConfig{}).status, Verdict::Pass);
  auto r = check_ephemeral_ports(n, running(50000), ProxyConfig{});
  EXPECT_EQ(r.status, Verdict::Warn);
  EXPECT_TRUE(has(r.found, "28232 ephemeral ports")) << r.found;
  EXPECT_EQ(check_ephemeral_ports(n, RuntimeSocket{}, ProxyConfig{}).status, Verdict::Skip);
}

TEST(DoctorAws, RegionAndCredentials) {
  AwsSetup ok{"us-east-1", std::nullopt, "environment", std::nullopt};
  EXPECT_EQ(check_region(ok).status, Verdict::Pass);
  EXPECT_EQ(check_credentials(ok).status, Verdict::Pass);
  EXPECT_TRUE(has(check_credentials(ok).found, "environment"));
  AwsSetup none{"us-east-1", std::nullopt, "", Failure{"NoCredentials", "no AWS credentials: ..."}};
  EXPECT_EQ(check_credentials(none).status, Verdict::Fail);
  AwsSetup no_region{"", Failure{"NoRegion", "no AWS region"}, "", std::nullopt};
  EXPECT_EQ(check_region(no_region).status, Verdict::Fail);
  EXPECT_TRUE(has(check_region(no_region).fix, "AWS_REGION"));
}

TEST(DoctorAws, Imds) {
  AwsSetup env_creds{"us-east-1", std::nullopt, "environment", std::nullopt};
  AwsSetup imds_creds{"us-east-1", std::nullopt, "imds (role r)", std::nullopt};
  ImdsFacts disabled;
  disabled.disabled = true;
  EXPECT_EQ(check_imds(disabled, env_creds).status, Verdict::Skip);

  ImdsFacts down;
  down.endpoint = "http://169.254.169.254";
  down.error = Failure{"ConnectionError", "timed out"};
  EXPECT_EQ(check_imds(down, env_creds).status, Verdict::Skip);
  EXPECT_EQ(check_imds(down, AwsSetup{"", std::nullopt, "", Failure{"NoCredentials", "none"}}).status,
            Verdict::Fail);

  ImdsFacts up;
  up.endpoint = "http://169.254.169.254";
  up.instance_id = "i-0abc";
  up.options = aws::InstanceMetadataOptions{"required", 2, "enabled"};
  EXPECT_EQ(check_imds(up, imds_creds).status, Verdict::Pass);
  up.options->hop_limit = 1;
  auto r = check_imds(up, imds_creds);
  EXPECT_EQ(r.status, Verdict::Pass);
  EXPECT_TRUE(has(r.found, "--http-put-response-hop-limit 2")) << r.found;
  up.options->http_tokens = "optional";
  r = check_imds(up, imds_creds);
  EXPECT_EQ(r.status, Verdict::Warn);
  EXPECT_EQ(r.fix, "aws ec2 modify-instance-metadata-options --instance-id i-0abc --http-tokens required");
  up.options.reset();
  up.options_error = Failure{"UnauthorizedOperation", "denied"};
  EXPECT_EQ(check_imds(up, imds_creds).status, Verdict::Warn);
}

TEST(DoctorAws, Group) {
  GroupFacts g;
  g.group = "app-asg";
  g.exists = true;
  g.instances = 3;
  g.desired = 3;
  EXPECT_EQ(check_group(g).status, Verdict::Pass);
  g.exists = false;
  EXPECT_EQ(check_group(g).status, Verdict::Fail);
  g.error = Failure{"AccessDenied", "no"};
  EXPECT_EQ(check_group(g).status, Verdict::Skip);
  g.error = Failure{"Throttling", "rate"};
  EXPECT_EQ(check_group(g).status, Verdict::Fail);
}

GroupFacts group_with(std::vector<aws::LifecycleHook> hooks) {
  GroupFacts g;
  g.group = "app-asg";
  g.exists = true;
  g.hooks = std::move(hooks);
  return g;
}

const aws::LifecycleHook kDrain{"drain", "autoscaling:EC2_INSTANCE_TERMINATING", 120, 12000, "CONTINUE"};

TEST(DoctorHooks, NoTerminationHookWarnsWithTheMeasuredCost) {
  auto r = check_hooks(backend(), group_with({kDrain}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Verdict::Warn);
  EXPECT_TRUE(has(r[0].found, "68 to 165 of 3,500")) << r[0].found;
  EXPECT_TRUE(has(r[0].found, "it has drain")) << r[0].found;
  EXPECT_TRUE(has(r[0].fix, "aws autoscaling put-lifecycle-hook --auto-scaling-group-name app-asg")) << r[0].fix;
  EXPECT_TRUE(has(r[0].fix, "lifecycle_hooks: {terminating: haproxy-asg-drain}"));
}

TEST(DoctorHooks, ConfiguredHookVerdicts) {
  auto b = backend();
  b.hook_terminating = "drain";
  EXPECT_EQ(check_hooks(b, group_with({kDrain}))[0].status, Verdict::Pass);

  auto r = check_hooks(b, group_with({}));
  EXPECT_EQ(r[0].status, Verdict::Fail);
  EXPECT_TRUE(has(r[0].fix, "--lifecycle-hook-name drain --lifecycle-transition autoscaling:EC2_INSTANCE_TERMINATING"));

  auto wrong = kDrain;
  wrong.transition = "autoscaling:EC2_INSTANCE_LAUNCHING";
  r = check_hooks(b, group_with({wrong}));
  EXPECT_EQ(r[0].status, Verdict::Fail);
  EXPECT_TRUE(has(r[0].fix, "delete-lifecycle-hook"));

  b.drain_timeout = std::chrono::seconds(20000);
  r = check_hooks(b, group_with({kDrain}));
  EXPECT_EQ(r[0].status, Verdict::Warn);
  EXPECT_TRUE(has(r[0].fix, "12000s"));

  auto g = group_with({});
  g.hooks_error = Failure{"AccessDenied", "no"};
  EXPECT_EQ(check_hooks(b, g)[0].status, Verdict::Skip);
}

TEST(DoctorHooks, LaunchHook) {
  auto b = backend();
  b.hook_terminating = "drain";
  b.hook_launching = "launch";
  auto r = check_hooks(b, group_with({kDrain}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].check, "aws.launch_hook app");
  EXPECT_EQ(r[1].status, Verdict::Fail);
  r = check_hooks(b, group_with({kDrain, {"launch", "autoscaling:EC2_INSTANCE_LAUNCHING", 600, 60000, "ABANDON"}}));
  EXPECT_EQ(r[1].status, Verdict::Pass);
}

TEST(DoctorAws, Queue) {
  const std::string url = "https://sqs.us-east-1.amazonaws.com/123456789012/haproxy-asg-events";
  EXPECT_EQ(check_queue(url, Probe{"ReceiveMessage", std::nullopt, {}}).status, Verdict::Pass);
  auto r = check_queue(url, Probe{"ReceiveMessage", Failure{"AWS.SimpleQueueService.NonExistentQueue", "no"}, {}});
  EXPECT_EQ(r.status, Verdict::Fail);
  EXPECT_TRUE(has(r.fix, "aws sqs create-queue --queue-name haproxy-asg-events")) << r.fix;
  EXPECT_EQ(check_queue(url, Probe{"ReceiveMessage", Failure{"AccessDenied", "no"}, {}}).status, Verdict::Skip);
  EXPECT_EQ(check_queue(url, Probe{"ReceiveMessage", Failure{"ConnectionError", "down"}, {}}).status,
            Verdict::Fail);
}

}  // namespace
}  // namespace hasg::doctor
