// Issue 12's fault matrix, AWS side: each fault injected for real into the simulator (or the network path to it)
// while `haproxy-asg run` keeps a real HAProxy in step with a group. Each case proves the same five things: HAProxy
// keeps its servers (the last good membership), nothing is removed, the fault is logged once with what to do,
// /healthz says it (503 once it outlasts the grace of three intervals), and once the fault ends the daemon recovers
// by itself: HAProxy follows the change made to the group during the fault, /healthz is ok, "recovered" is logged.
// README "Faults and what haproxy-asg does" is the table of these cases.
#include <regex>

#include "sync_rig.h"

namespace hasg::test {
namespace {

using namespace std::chrono_literals;

struct Healthz {
  int status = 0;
  std::string body;
};

class FaultMatrixAws : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }

  // A rig at a 250 ms interval with `desired` instances; `second_group` adds group app2 (one instance) behind
  // backend app2.
  // `backend_yaml`: more keys of backend app (indented by four spaces); `top_yaml`: more top-level keys.
  void start_rig(sim::SimOptions opt, int desired = 3, bool second_group = false, const std::string& backend_yaml = "",
                 const std::string& top_yaml = "") {
    listen_port_ = free_port();
    opt.instance_port = free_port();
    std::string extra = backend_yaml + top_yaml + "listen: 127.0.0.1:" + std::to_string(listen_port_) + "\n";
    if (second_group)
      extra = "  - backend: app2\n    group: app2\n    port: " + std::to_string(opt.instance_port) +
              "\n    server_options: check inter 500ms\n" + extra;
    rig_ = std::make_unique<SyncRig>(opt, desired, extra);
    const std::string yaml = rig_->dir().file("haproxy-asg.yaml");
    write_file(yaml, std::regex_replace(read_file(yaml), std::regex("interval: 1s"), "interval: 250ms"));
    if (second_group) {
      ASSERT_TRUE(rig_->sim().create_group("app2", 1).ok());
      const std::string tmpl = rig_->dir().file("haproxy.cfg.template");
      write_file(tmpl, read_file(tmpl) + "\nbackend app2\n    balance roundrobin\n");
    }
    env_ = sim_env(rig_->sim());
    auto r = run_command({binary_path("haproxy-asg"), "once", "--config", yaml}, env_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(rig_->start_haproxy());
  }

  void start_daemon() {
    daemon_ = std::make_unique<Process>(std::vector<std::string>{binary_path("haproxy-asg"), "run", "--config",
                                                                 rig_->dir().file("haproxy-asg.yaml")},
                                        env_, log_path());
    ASSERT_TRUE(wait_until([&] { return healthz().status != 0; })) << log();  // 503 too: a fault from the start
    ASSERT_TRUE(wait_until([&] { return converged(); })) << log();
  }

  std::string log_path() const { return rig_->dir().file("daemon.log"); }
  std::string log() const { return read_file(log_path()); }

  // Lines of the daemon's log that contain `text`.
  int lines_with(const std::string& text) const {
    std::istringstream in(log());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.find(text) != std::string::npos;
    return n;
  }
  std::string line_with(const std::string& text) const {
    std::istringstream in(log());
    std::string line;
    while (std::getline(in, line))
      if (line.find(text) != std::string::npos) return line;
    return "";
  }

  Healthz healthz() const {
    auto r = run_command({"/usr/bin/curl", "-s", "--max-time", "3", "-w", "\n%{http_code}",
                          "http://127.0.0.1:" + std::to_string(listen_port_) + "/healthz"});
    auto nl = r.out.rfind('\n');
    if (r.exit_code != 0 || nl == std::string::npos) return {};
    return {std::atoi(r.out.c_str() + nl + 1), r.out.substr(0, nl)};
  }

  double metric(const std::string& series) const {
    auto r = run_command({"/usr/bin/curl", "-s", "--max-time", "3",
                          "http://127.0.0.1:" + std::to_string(listen_port_) + "/metrics"});
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line))
      if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
    return -1;
  }
  double failed_cycles() const {
    auto r = run_command({"/usr/bin/curl", "-s", "--max-time", "3",
                          "http://127.0.0.1:" + std::to_string(listen_port_) + "/metrics"});
    std::istringstream in(r.out);
    std::string line;
    double n = 0;
    while (std::getline(in, line))
      if (line.starts_with("haproxy_asg_errors_total{")) n += std::stod(line.substr(line.rfind(' ') + 1));
    return n;
  }

  bool converged() const {
    return rig_->ready_servers() == rig_->in_service() && rig_->haproxy_servers().size() == rig_->in_service().size();
  }

  // Whether `line` holds one of the '|'-separated alternatives of `any_of`.
  static bool has_any(const std::string& line, const std::string& any_of) {
    size_t start = 0;
    for (;;) {
      size_t bar = any_of.find('|', start);
      if (line.find(any_of.substr(start, bar - start)) != std::string::npos) return true;
      if (bar == std::string::npos) return false;
      start = bar + 1;
    }
  }

  // The fault is on; the group changes under it. Proves: logged once under `key` (with `in_line` and `remedy` in
  // that one line) while cycles keep failing, /healthz 503 naming it, HAProxy's servers untouched.
  void prove_fault(const std::string& key, const std::string& in_line, const std::string& remedy) {
    const auto servers = rig_->haproxy_servers();
    ASSERT_TRUE(rig_->sim().set_desired("app", 5).ok());
    const std::string error_line = " error: " + key + ": ";
    ASSERT_TRUE(wait_until([&] { return lines_with(error_line) > 0; }, 20s)) << log();
    // Cycles go on failing (retried with backoff) and the fault is not logged again.
    const double failed = failed_cycles();
    ASSERT_TRUE(wait_until([&] { return failed_cycles() >= failed + 2; }, 20s)) << log();
    Healthz h;
    ASSERT_TRUE(wait_until([&] { return (h = healthz()).status == 503; }, 10s)) << h.status << " " << h.body;
    EXPECT_NE(h.body.find(key + ": failing for"), std::string::npos) << h.body;
    EXPECT_NE(h.body.find(remedy), std::string::npos) << h.body;
    EXPECT_EQ(lines_with(error_line), 1) << log();
    const std::string line = line_with(error_line);
    EXPECT_TRUE(has_any(line, in_line)) << in_line << " in: " << line;
    EXPECT_NE(line.find(remedy), std::string::npos) << line;
    EXPECT_EQ(rig_->haproxy_servers(), servers) << "the last good membership keeps serving, nothing removed";
    EXPECT_EQ(rig_->reloads(), 0);
  }

  // The fault is gone: HAProxy follows the group (5 now), /healthz is ok, the fault's end is logged once.
  void prove_recovery(const std::string& key) {
    ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 5; }, 30s)) << log();
    ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 10s)) << healthz().body << log();
    EXPECT_EQ(lines_with(key + ": recovered after"), 1) << log();
    EXPECT_EQ(lines_with(" error: " + key + ": "), 1) << log();
  }

  // An edge beside the cycle fails (`metric` counts its failures): cycles go on following the group meanwhile; the
  // fault is logged once, /healthz turns 503 naming it once it outlasts the grace, and its end is logged once.
  void prove_edge_fault_and_recovery(const std::string& key, const std::string& in_line, const std::string& remedy,
                                     const std::string& metric_series) {
    const auto before = rig_->haproxy_servers();
    const std::string error_line = " error: " + key + ": ";
    ASSERT_TRUE(wait_until([&] { return lines_with(error_line) > 0; }, 20s)) << log();
    if (!metric_series.empty()) {
      ASSERT_TRUE(wait_until([&] { return metric(metric_series) >= 2; }, 20s)) << metric(metric_series) << log();
    }
    ASSERT_TRUE(rig_->sim().set_desired("app", 5).ok());
    ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 5; }, 20s)) << log();
    for (const auto& [name, v] : before) EXPECT_TRUE(rig_->haproxy_servers().contains(name)) << name << " removed";
    Healthz h;
    ASSERT_TRUE(wait_until([&] { return (h = healthz()).status == 503; }, 10s)) << h.status << " " << h.body;
    EXPECT_NE(h.body.find(key + ": failing for"), std::string::npos) << h.body;
    EXPECT_EQ(lines_with(error_line), 1) << log();
    const std::string line = line_with(error_line);
    EXPECT_NE(line.find(in_line), std::string::npos) << line;
    EXPECT_NE(line.find(remedy), std::string::npos) << line;
    rig_->sim().clear_faults();
    ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 40s)) << healthz().body << log();
    EXPECT_EQ(lines_with(key + ": recovered after"), 1) << log();
    EXPECT_EQ(lines_with(error_line), 1) << log();
  }

  int listen_port_ = 0;
  std::unique_ptr<SyncRig> rig_;
  EnvOverrides env_;
  std::unique_ptr<Process> daemon_;
};

// Faults of discovery's calls, by the simulator: each edge under its key, each with its remedy.
struct DiscoveryCase {
  std::string name;
  int net;
  sim::Fault fault;
  std::string key;
  std::string in_line;  // in the one error line
  std::string remedy;
  int page_size = 0;
  bool second_group = false;
};

class DiscoveryFaults : public FaultMatrixAws, public ::testing::WithParamInterface<DiscoveryCase> {};

TEST_P(DiscoveryFaults, KeepServingLogOnceSayItAndRecover) {
  const auto& c = GetParam();
  sim::SimOptions opt;
  opt.instance_net = c.net;
  opt.page_size = c.page_size;
  start_rig(opt, 3, c.second_group);
  start_daemon();
  rig_->sim().inject(c.fault);
  prove_fault(c.key, c.in_line, c.remedy);
  rig_->sim().clear_faults();
  prove_recovery(c.key);
  EXPECT_EQ(lines_with(" error: aws."), 1) << "no other edge reported: " << log();
}

using K = sim::Fault::Kind;
INSTANTIATE_TEST_SUITE_P(
    FaultMatrix, DiscoveryFaults,
    ::testing::Values(
        DiscoveryCase{"ThrottlingStorm", 161, {"DescribeAutoScalingGroups", K::Throttle, -1}, "aws.autoscaling",
                      "Throttling: Rate exceeded", "raise `interval`"},
        DiscoveryCase{"ServerErrors", 162, {"DescribeAutoScalingGroups", K::ServerError, -1}, "aws.autoscaling",
                      "InternalFailure", "AWS's side"},
        DiscoveryCase{"MalformedXml", 163, {"DescribeAutoScalingGroups", K::Malformed, -1}, "aws.autoscaling",
                      "MalformedResponse", "not AWS's"},
        DiscoveryCase{"TruncatedAnswers", 164, {"DescribeAutoScalingGroups", K::Truncated, -1}, "aws.autoscaling",
                      "ConnectionError", "does not answer"},
        // Not "unexpected HTTP 400": the code and message, as botocore reads them.
        DiscoveryCase{"MixedErrorShape", 165, {"DescribeAutoScalingGroups", K::MixedErrorShape, -1},
                      "aws.autoscaling", "Throttling: Rate exceeded", "raise `interval`"},
        DiscoveryCase{"AccessDenied", 166, {"DescribeAutoScalingGroups", K::Deny, -1}, "aws.autoscaling",
                      "AccessDenied", "allow autoscaling:DescribeAutoScalingGroups"},
        // Addresses of the new instances cannot be had; Auto Scaling works.
        DiscoveryCase{"DescribeInstancesAlone", 167, {"DescribeInstances", K::Throttle, -1}, "aws.ec2",
                      "RequestLimitExceeded", "raise `interval`"},
        // Every page but the first fails: the first page's news is not acted on alone.
        DiscoveryCase{"DescribeInstancesSecondPage", 168, {"DescribeInstances", K::ServerError, -1, 0, 0, "NextToken"},
                      "aws.ec2", "InternalError", "AWS's side", 1},
        DiscoveryCase{"DescribeAutoScalingGroupsSecondPage", 169,
                      {"DescribeAutoScalingGroups", K::ServerError, -1, 0, 0, "NextToken"}, "aws.autoscaling",
                      "InternalFailure", "AWS's side", 1, true}),
    [](const auto& p) { return p.param.name; });

// The endpoint itself goes away (a proxy in the path stops: connection refused), then comes back on its port.
TEST_F(FaultMatrixAws, ConnectionRefusedThenBack) {
  sim::SimOptions opt;
  opt.instance_net = 170;
  start_rig(opt);
  const int proxy_port = free_port();
  auto proxy = [&] {
    return std::make_unique<Process>(std::vector<std::string>{
        "/usr/bin/socat", "TCP-LISTEN:" + std::to_string(proxy_port) + ",bind=127.0.0.1,reuseaddr,fork",
        "TCP:127.0.0.1:" + std::to_string(rig_->sim().port())});
  };
  auto socat = proxy();
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.1:" + std::to_string(proxy_port);
  ASSERT_TRUE(wait_until([&] {
    return run_command({"/usr/bin/curl", "-s", "-o", "/dev/null", env_["AWS_ENDPOINT_URL"]}).exit_code == 0;
  }));
  start_daemon();
  socat.reset();  // its whole process group: no forked child keeps a connection alive
  prove_fault("aws.autoscaling", "ConnectionError", "does not answer");
  socat = proxy();
  prove_recovery("aws.autoscaling");
}

// The shared credentials file holds a key AWS no longer accepts; the operator writes the new one into it while the
// daemon runs: it is read again, no restart.
TEST_F(FaultMatrixAws, SharedCredentialsFileRotatedWhileRunning) {
  sim::SimOptions opt;
  opt.instance_net = 171;
  start_rig(opt);
  const std::string creds = rig_->dir().file("credentials");
  auto write_key = [&](const std::string& key) {
    write_file(creds, "[default]\naws_access_key_id = " + key + "\naws_secret_access_key = " +
                          rig_->sim().options().secret_access_key + "\n");
  };
  write_key(rig_->sim().options().access_key_id);
  env_["AWS_ACCESS_KEY_ID"] = "";
  env_["AWS_SECRET_ACCESS_KEY"] = "";
  env_["AWS_SHARED_CREDENTIALS_FILE"] = creds;
  start_daemon();
  write_key("AKIDREVOKED0000000");  // the key in the file is one AWS does not know
  // The first call to meet the dead key names it: Auto Scaling's InvalidClientTokenId, or EC2's AuthFailure when a
  // DescribeInstances of the scale-out is the first call after the file changed.
  prove_fault("aws.credentials", "InvalidClientTokenId|AuthFailure", "picked up without a restart");
  write_key(rig_->sim().options().access_key_id);
  prove_recovery("aws.credentials");
  EXPECT_TRUE(daemon_->alive());
}

// Instance-profile credentials AWS calls expired: the chain asks IMDS for new ones. While IMDS is down (503) or slow
// (past its 1 s timeout) there are none; once it answers, the daemon goes on by itself.
struct ImdsCase {
  std::string name;
  int net;
  sim::Fault fault;
};
class ImdsFaults : public FaultMatrixAws, public ::testing::WithParamInterface<ImdsCase> {};

TEST_P(ImdsFaults, ExpiredCredentialsAreFetchedAgainOnceImdsAnswers) {
  sim::SimOptions opt;
  opt.instance_net = GetParam().net;
  start_rig(opt);
  env_["AWS_ACCESS_KEY_ID"] = "";
  env_["AWS_SECRET_ACCESS_KEY"] = "";
  env_["AWS_EC2_METADATA_DISABLED"] = "false";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = rig_->sim().url();
  start_daemon();
  // Expired alone is no fault: the next call takes fresh credentials from IMDS.
  rig_->sim().expire_credentials();
  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 4; })) << log();
  EXPECT_EQ(lines_with(" error: "), 0) << log();

  rig_->sim().inject(GetParam().fault);
  rig_->sim().expire_credentials();
  prove_fault("aws.credentials", "IMDS", "instance profile");
  rig_->sim().clear_faults();
  prove_recovery("aws.credentials");
}

INSTANTIATE_TEST_SUITE_P(FaultMatrix, ImdsFaults,
                         ::testing::Values(ImdsCase{"ImdsDown", 172, {"IMDS", K::ServerError, -1}},
                                           ImdsCase{"ImdsSlow", 173, {"IMDS", K::Slow, -1, 1500}}),
                         [](const auto& p) { return p.param.name; });

// The events queue throttles every ReceiveMessage: polling backs off (never a hot loop), cycles go on at `interval`.
TEST_F(FaultMatrixAws, SqsReceiveFailing) {
  sim::SimOptions opt;
  opt.instance_net = 174;
  start_rig(opt);
  auto url = rig_->sim().create_queue("haproxy-asg-events");
  ASSERT_TRUE(url.ok());
  const std::string yaml = rig_->dir().file("haproxy-asg.yaml");
  write_file(yaml, read_file(yaml) + "events:\n  queue_url: " + *url + "\n");
  // Before the daemon starts: a long poll already in flight would hold the next ReceiveMessage 20 s.
  rig_->sim().inject({"ReceiveMessage", K::Throttle, -1});
  start_daemon();
  prove_edge_fault_and_recovery("aws.sqs", "ReceiveMessage", "raise `interval`",
                                "haproxy_asg_event_errors_total{operation=\"ReceiveMessage\"}");
}

// CloudWatch fails every PutMetricData: periods are kept once, then dropped; cycles go on.
TEST_F(FaultMatrixAws, CloudWatchPutMetricDataFailing) {
  sim::SimOptions opt;
  opt.instance_net = 175;
  start_rig(opt, 3, false, "", "cloudwatch:\n  namespace: HAProxyASG-Faults\n  period: 1s\n");
  start_daemon();
  rig_->sim().inject({"PutMetricData", K::ServerError, -1});
  prove_edge_fault_and_recovery("aws.cloudwatch", "PutMetricData", "AWS's side",
                                "haproxy_asg_cloudwatch_periods_total{outcome=\"failed\"}");
}

// IMDS does not tell this node's id (cluster.node_id's default) at start: said once, asked again before each cycle,
// and the node goes on with its id once IMDS answers.
TEST_F(FaultMatrixAws, NodeIdFromImdsDownThenBack) {
  sim::SimOptions opt;
  opt.instance_net = 177;
  start_rig(opt, 3, false, "", "cluster:\n  group: lb\n");
  ASSERT_TRUE(rig_->sim().create_group("lb", 0).ok());
  env_["AWS_EC2_METADATA_DISABLED"] = "false";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = rig_->sim().url();
  rig_->sim().inject({"IMDS", K::ServerError, -1});
  start_daemon();
  prove_edge_fault_and_recovery("aws.imds", "HTTP 503", "set cluster.node_id", "");
  EXPECT_EQ(lines_with("cluster: node " + rig_->sim().options().imds_instance_id + " of group lb (IMDS answered)"), 1)
      << log();
}

// CompleteLifecycleAction fails while an instance leaves through a termination hook: the hook is not lost (the
// instance waits in Terminating:Wait, its completion retried within seconds) and completes once Auto Scaling
// answers again.
TEST_F(FaultMatrixAws, CompleteLifecycleActionFailing) {
  sim::SimOptions opt;
  opt.instance_net = 176;
  start_rig(opt, 3, false, "    lifecycle_hooks:\n      terminating: drain\n");
  sim::LifecycleHookSpec hook;
  hook.group = "app";
  hook.name = "drain";
  hook.transition = sim::kTerminatingTransition;
  hook.default_result = "ABANDON";  // a timeout would show as ABANDON, never as the daemon's CONTINUE
  ASSERT_TRUE(rig_->sim().put_lifecycle_hook(hook).ok());
  start_daemon();
  auto before = rig_->haproxy_servers();
  rig_->sim().inject({"CompleteLifecycleAction", K::ServerError, -1});
  ASSERT_TRUE(rig_->sim().set_desired("app", 2).ok());
  std::string leaving;
  ASSERT_TRUE(wait_until([&] {
    for (const auto& i : rig_->sim().instances("app"))
      if (i.lifecycle == "Terminating:Wait") leaving = i.id;
    return !leaving.empty();
  }));
  const std::string error_line = " error: aws.lifecycle: ";
  ASSERT_TRUE(wait_until([&] { return lines_with(error_line) > 0; }, 20s)) << log();
  Healthz h;
  ASSERT_TRUE(wait_until([&] { return (h = healthz()).status == 503; }, 10s)) << h.status << " " << h.body;
  EXPECT_NE(h.body.find("aws.lifecycle: failing for"), std::string::npos) << h.body;
  // Retried meanwhile, still waiting: the hook is not lost.
  ASSERT_TRUE(wait_until([&] { return rig_->sim().calls("CompleteLifecycleAction") >= 6; }, 20s)) << log();
  auto action = rig_->sim().lifecycle_actions(leaving);
  ASSERT_FALSE(action.empty());
  EXPECT_FALSE(action.back().completed.has_value());
  EXPECT_EQ(lines_with(error_line), 1) << log();
  EXPECT_NE(line_with(error_line).find("CompleteLifecycleAction"), std::string::npos) << line_with(error_line);
  for (const auto& [name, v] : before) {
    EXPECT_TRUE(name == leaving || rig_->haproxy_servers().contains(name)) << name << " removed";
  }

  rig_->sim().clear_faults();
  ASSERT_TRUE(wait_until([&] {
    auto a = rig_->sim().lifecycle_actions(leaving);
    return !a.empty() && a.back().completed.has_value();
  }, 20s)) << log();
  action = rig_->sim().lifecycle_actions(leaving);
  EXPECT_EQ(action.back().completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(action.back().result, "CONTINUE");
  ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 20s)) << healthz().body << log();
  EXPECT_EQ(lines_with("aws.lifecycle: recovered after"), 1) << log();
  EXPECT_EQ(lines_with(error_line), 1) << log();
}

}  // namespace
}  // namespace hasg::test
