// Issue 12's fault matrix, AWS side: each fault injected for real into the simulator (or the network path to it)
// while `haproxy-asg run` keeps a real HAProxy in step with a group. Each case proves the same five things: HAProxy
// keeps its servers (the last good membership), nothing is removed, the fault is logged once with what to do,
// /healthz says it (503 once it outlasts the grace of three intervals), and once the fault ends the daemon recovers
// by itself: HAProxy follows the change made to the group during the fault, /healthz is ok, "recovered" is logged.
// README "Faults and what haproxy-asg does" is the table of these cases.
#include <csignal>
#include <future>
#include <regex>
#include <thread>

#include "sync_rig.h"
#include "unit/sim/sim_client.h"

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
  // `backend_yaml`: more keys of backend app (indented by four spaces); `top_yaml`: more top-level keys. Slow
  // instances (opt.instance_delay_ms) get TCP checks (an HTTP check would time out) and 60 s timeouts. The daemon
  // listens on port 0: its start line says which port it got (no free port to race for under ctest -j).
  void start_rig(sim::SimOptions opt, int desired = 3, bool second_group = false, const std::string& backend_yaml = "",
                 const std::string& top_yaml = "", const std::string& drain_timeout = "2s") {
    // The instances listen on this test's own addresses (127.<instance_net>.x.y), where no other test binds.
    opt.instance_port = free_port();
    std::string extra = backend_yaml + top_yaml + "listen: 127.0.0.1:0\n";
    if (second_group)
      extra = "  - backend: app2\n    group: app2\n    port: " + std::to_string(opt.instance_port) +
              "\n    server_options: check inter 500ms\n" + extra;
    rig_ = std::make_unique<SyncRig>(opt, desired, extra);
    const std::string yaml = rig_->dir().file("haproxy-asg.yaml");
    std::string y = std::regex_replace(read_file(yaml), std::regex("interval: 1s"), "interval: 250ms");
    write_file(yaml, std::regex_replace(y, std::regex("drain_timeout: 2s"), "drain_timeout: " + drain_timeout));
    if (opt.instance_delay_ms > 0) {
      // And HAProxy waits for their answers as long as they take.
      std::string t = std::regex_replace(rig_->template_text(), std::regex("    option httpchk GET /\n"), "");
      t = std::regex_replace(t, std::regex("timeout (client|server) 10s"), "timeout $1 60s");
      write_file(rig_->dir().file("haproxy.cfg.template"), t);
    }
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
    ASSERT_TRUE(wait_until([&] { return (listen_port_ = daemon_port_from_log(log())) != 0; })) << log();
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

  // The failures the "KEY: recovered after N s (M failure(s))" line counts (-1 without one): more than one says the
  // fault was retried, and still logged once.
  int failures_when_recovered(const std::string& key) const {
    std::smatch m;
    const std::string line = line_with(key + ": recovered after");
    return std::regex_search(line, m, std::regex(R"(\((\d+) failure\(s\)\))")) ? std::stoi(m[1]) : -1;
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

  // Lifecycle cases: a termination hook "drain" on group app, its default result ABANDON (a timeout shows as
  // ABANDON, never as the daemon's CONTINUE). The daemon reads HeartbeatTimeout in real seconds and beats every third
  // of it; the simulator counts it in SimOptions::hook_second.
  void put_drain_hook(int heartbeat_timeout = 30) {
    sim::LifecycleHookSpec hook;
    hook.group = "app";
    hook.name = "drain";
    hook.transition = sim::kTerminatingTransition;
    hook.heartbeat_timeout = heartbeat_timeout;
    hook.default_result = "ABANDON";
    ASSERT_TRUE(rig_->sim().put_lifecycle_hook(hook).ok());
  }
  std::optional<sim::LifecycleActionTimes> action(const std::string& instance) const {
    return rig_->lifecycle_action(instance);
  }
  bool completed(const std::string& instance) const { return rig_->hook_completed(instance); }
  int heartbeats(const std::string& instance) const {
    auto a = action(instance);
    return a ? a->heartbeats : 0;
  }
  // The newest member of group app (the simulator scales in newest first).
  std::string newest() const {
    std::string out;
    for (const auto& i : rig_->sim().instances("app"))
      if (i.id > out) out = i.id;
    return out;
  }
  // HAProxy's current sessions on server `name` of backend app.
  int sessions(const std::string& name) const { return rig_->sessions("app", name); }
  // Scales group app from two to one while requests (answered after the instances' delay) are open on the leaving
  // instance, the newest: returns it once HAProxy drains it and it waits in Terminating:Wait on the hook.
  std::string scale_in_while_busy() {
    const std::string leaving = newest();
    for (int i = 0; i < 4; ++i)  // round robin puts two on each server
      held_.push_back(std::async(std::launch::async, [url = rig_->frontend_url()] {
        return run_command({"/usr/bin/curl", "-s", "--max-time", "60", url});
      }));
    EXPECT_TRUE(wait_until([&] { return sessions(leaving) >= 1; })) << "a request is open on " << leaving;
    EXPECT_TRUE(rig_->sim().set_desired("app", 1).ok());
    EXPECT_TRUE(wait_until([&] {
      auto a = action(leaving);
      return a && !a->completed && rig_->haproxy_servers()[leaving].ends_with(" drain");
    })) << log();
    return leaving;
  }
  // A rig of two slow instances (requests held open 40 s) whose group has a termination hook with a 30 s
  // heartbeat timeout (hook seconds of 600 ms: the simulator times an action out 18 s after its last heartbeat, the
  // daemon beats every 10 s), the daemon running; scales in while busy and returns the leaving instance once its
  // first heartbeat went out.
  std::string drain_on_hook(int net, const std::string& drain_timeout) {
    sim::SimOptions opt;
    opt.instance_net = net;
    opt.instance_delay_ms = 40000;
    opt.hook_second = std::chrono::milliseconds(600);
    start_rig(opt, 2, false, "    lifecycle_hooks:\n      terminating: drain\n", "", drain_timeout);
    put_drain_hook(30);
    start_daemon();
    if (HasFailure()) return "";
    const std::string leaving = scale_in_while_busy();
    EXPECT_TRUE(wait_until([&] { return heartbeats(leaving) == 1; }, 3s)) << "the first sight's heartbeat\n" << log();
    return leaving;
  }
  // Stops the daemon, HAProxy and the simulator: the requests still held open end with them.
  void end_held_requests() {
    daemon_.reset();
    client_.reset();
    rig_.reset();
    for (auto& f : held_) f.wait();
    held_.clear();
  }

  // EC2 calls as another node of the cluster makes them (its drain record, reading the records).
  aws::HttpResponse ec2(const std::string& action, const std::vector<std::pair<std::string, std::string>>& params) {
    if (!client_) client_ = std::make_unique<sim::test::SimClient>(rig_->sim());
    return client_->query("ec2", action, params, "2016-11-15");
  }
  // The drain records (tag keys) on `instance`, read with DescribeTags as any node reads them.
  std::set<std::string> records(const std::string& instance) {
    auto a = ec2("DescribeTags", {{"Filter.1.Name", "resource-id"}, {"Filter.1.Value.1", instance}});
    EXPECT_EQ(a.status, 200) << a.body;
    std::set<std::string> out;
    std::regex key("<key>(haproxy-asg:drained:[^<]*)</key>");
    for (std::sregex_iterator it(a.body.begin(), a.body.end(), key), end; it != end; ++it) out.insert((*it)[1]);
    return out;
  }

  std::vector<std::future<CommandResult>> held_;  // before rig_: destroyed after HAProxy is gone
  int listen_port_ = 0;
  std::unique_ptr<SyncRig> rig_;
  EnvOverrides env_;
  std::unique_ptr<Process> daemon_;
  std::unique_ptr<sim::test::SimClient> client_;
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
  EXPECT_GE(failures_when_recovered("aws.lifecycle"), 2) << "retried: " << log();
  EXPECT_EQ(lines_with(error_line), 1) << log();
}

// RecordLifecycleActionHeartbeat fails while an instance drains on the termination hook for longer than the hook's
// heartbeat timeout. HeartbeatTimeout 30, hook seconds of 600 ms: the simulator times the action out 18 s after its
// last heartbeat, the daemon beats every 10 s. The heartbeat due at 10 s fails: said once, retried within seconds
// (every cycle, not at the next beat); once AWS answers again it goes through, and the hook, kept alive past its
// timeout, is completed CONTINUE when the drain ends (drain_timeout 22 s, a request still open on it).
TEST_F(FaultMatrixAws, RecordLifecycleActionHeartbeatFailing) {
  const std::string leaving = drain_on_hook(190, "22s");
  ASSERT_FALSE(HasFailure());
  const std::string staying = *rig_->ready_servers().begin();
  rig_->sim().inject({"RecordLifecycleActionHeartbeat", K::ServerError, -1});

  const std::string error_line = " error: aws.lifecycle: ";
  ASSERT_TRUE(wait_until([&] { return lines_with(error_line) > 0; }, 15s)) << log();
  const auto failed_at = std::chrono::steady_clock::now();
  const uint64_t calls = rig_->sim().calls("RecordLifecycleActionHeartbeat");
  // Retried within seconds: the next cycles send it again (three attempts each), not the next beat 10 s later.
  ASSERT_TRUE(wait_until([&] { return rig_->sim().calls("RecordLifecycleActionHeartbeat") >= calls + 3; }, 3s))
      << log();
  Healthz h;
  ASSERT_TRUE(wait_until([&] { return (h = healthz()).status == 503; }, 5s)) << h.status << " " << h.body;
  EXPECT_NE(h.body.find("aws.lifecycle: failing for"), std::string::npos) << h.body;
  EXPECT_EQ(lines_with(error_line), 1) << log();
  EXPECT_NE(line_with(error_line).find("RecordLifecycleActionHeartbeat"), std::string::npos) << line_with(error_line);
  EXPECT_NE(line_with(error_line).find("AWS's side"), std::string::npos) << line_with(error_line);
  EXPECT_EQ(heartbeats(leaving), 1) << "none went through";
  EXPECT_FALSE(completed(leaving));
  EXPECT_TRUE(rig_->haproxy_servers()[leaving].ends_with(" drain")) << "still draining";
  EXPECT_TRUE(rig_->ready_servers().contains(staying));
  ASSERT_LT(std::chrono::steady_clock::now() - failed_at, 5s) << "too slow a machine: the action may time out";

  rig_->sim().clear_faults();
  ASSERT_TRUE(wait_until([&] { return heartbeats(leaving) == 2; }, 3s)) << log();
  ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 5s)) << healthz().body << log();
  EXPECT_EQ(lines_with("aws.lifecycle: recovered after"), 1) << log();
  EXPECT_GE(failures_when_recovered("aws.lifecycle"), 2) << "retried: " << log();
  // The drain ends at drain_timeout; the hook, past the 18 s its first heartbeat alone gave it, is ours to complete.
  ASSERT_TRUE(wait_until([&] { return completed(leaving); }, 20s)) << log();
  const auto a = *action(leaving);
  EXPECT_EQ(a.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(a.result, "CONTINUE");
  EXPECT_GT(std::chrono::duration<double>(*a.completed - a.entered_wait).count(), 19.0)
      << "the action outlived its heartbeat timeout";
  EXPECT_EQ(lines_with(error_line), 1) << log();
  EXPECT_TRUE(rig_->ready_servers().contains(staying));
  end_held_requests();
}

// Heartbeats go on while cycles fail: DescribeAutoScalingGroups fails (so nothing is decided, and the hook is not
// completed even once its drain timed out), yet the heartbeat due 10 s into the wait goes out; once discovery works
// again, the hook is completed CONTINUE.
TEST_F(FaultMatrixAws, HeartbeatsGoOnWhileDiscoveryFails) {
  const std::string leaving = drain_on_hook(191, "12s");
  ASSERT_FALSE(HasFailure());
  const auto wait_began = action(leaving)->entered_wait;
  rig_->sim().inject({"DescribeAutoScalingGroups", K::ServerError, -1});
  ASSERT_TRUE(wait_until([&] { return lines_with(" error: aws.autoscaling: ") > 0; }, 15s)) << log();

  ASSERT_TRUE(wait_until([&] { return heartbeats(leaving) == 2; }, 15s)) << "the heartbeat due at 10 s\n" << log();
  EXPECT_EQ(lines_with("heartbeat for " + leaving + " while cycles fail"), 1) << log();
  // Past the drain timeout, still failing: not completed on a failed discovery.
  ASSERT_TRUE(wait_until([&] { return std::chrono::steady_clock::now() > wait_began + 13s; }, 15s));
  EXPECT_FALSE(completed(leaving)) << log();
  Healthz h = healthz();
  EXPECT_EQ(h.status, 503) << h.body;
  EXPECT_NE(h.body.find("aws.autoscaling: failing for"), std::string::npos) << h.body;
  EXPECT_EQ(lines_with(" error: aws.lifecycle: "), 0) << log();

  rig_->sim().clear_faults();
  ASSERT_TRUE(wait_until([&] { return completed(leaving); }, 20s)) << log();
  const auto a = *action(leaving);
  EXPECT_EQ(a.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(a.result, "CONTINUE");
  ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 10s)) << healthz().body << log();
  EXPECT_EQ(lines_with("aws.autoscaling: recovered after"), 1) << log();
  EXPECT_EQ(lines_with(" error: aws.autoscaling: "), 1) << log();
  end_held_requests();
}

// During a failure backoff, a heartbeat due (and its retry 5 s after a failed try) goes alone, between the
// backoff's cycles: a cycle of its own would ask AWS for discovery again, what the backoff holds back. Made
// deterministic by a 30 s interval (SIGHUP), so the backoff after the first failure is 30 to 60 s: every discovery
// call in that time would be a cycle the heartbeats caused.
TEST_F(FaultMatrixAws, AHeartbeatDueDuringTheBackoffGoesAlone) {
  const std::string leaving = drain_on_hook(198, "40s");
  ASSERT_FALSE(HasFailure());
  // Discovery fails from here; the SIGHUP's cycle (at once) is the first failure.
  rig_->sim().inject({"DescribeAutoScalingGroups", K::ServerError, -1});
  rig_->sim().inject({"RecordLifecycleActionHeartbeat", K::ServerError, 3});  // the next try: its 3 attempts
  const std::string yaml = rig_->dir().file("haproxy-asg.yaml");
  write_file(yaml, std::regex_replace(read_file(yaml), std::regex("interval: 250ms"), "interval: 30s"));
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return lines_with("SIGHUP: configuration reloaded") > 0; }, 10s)) << log();
  ASSERT_TRUE(wait_until([&] { return lines_with(" error: aws.autoscaling: ") > 0; }, 10s)) << log();
  // The SIGHUP's cycle ends its retries; from then the backoff (30 s at least) allows no cycle.
  uint64_t discovery_calls = rig_->sim().calls("DescribeAutoScalingGroups");
  ASSERT_TRUE(wait_until([&] {
    const uint64_t before = discovery_calls;
    std::this_thread::sleep_for(1s);
    return (discovery_calls = rig_->sim().calls("DescribeAutoScalingGroups")) == before;
  }, 8s)) << log();

  // The heartbeat due 10 s after the first fails; its retry 5 s later goes through.
  ASSERT_TRUE(wait_until([&] { return heartbeats(leaving) == 2; }, 20s)) << log();
  EXPECT_EQ(lines_with("heartbeat for " + leaving + " while cycles fail (sent between them)"), 1) << log();
  EXPECT_GE(rig_->sim().calls("RecordLifecycleActionHeartbeat"), 5u) << "a failed try (3 attempts), then the retry";
  EXPECT_EQ(rig_->sim().calls("DescribeAutoScalingGroups"), discovery_calls)
      << "no cycle for the heartbeats within the backoff\n" << log();
  EXPECT_FALSE(completed(leaving));
  rig_->sim().clear_faults();
  end_held_requests();
}

// SetInstanceHealth fails while health feedback reports an instance HAProxy sees DOWN: said once, retried each
// cycle, nothing removed meanwhile; once AWS answers, the instance is reported Unhealthy and the group replaces it.
TEST_F(FaultMatrixAws, SetInstanceHealthFailing) {
  sim::SimOptions opt;
  opt.instance_net = 192;
  start_rig(opt, 3, false, "    health_feedback: {down_for: 1s, max_share: 50%}\n");
  start_daemon();
  const auto before = rig_->haproxy_servers();
  rig_->sim().inject({"SetInstanceHealth", K::ServerError, -1});
  const std::string victim = newest();
  ASSERT_TRUE(rig_->sim().kill_server(victim).ok());

  const std::string error_line = " error: aws.lifecycle: ";
  ASSERT_TRUE(wait_until([&] { return lines_with(error_line) > 0; }, 15s)) << log();
  const uint64_t calls = rig_->sim().calls("SetInstanceHealth");
  ASSERT_TRUE(wait_until([&] { return rig_->sim().calls("SetInstanceHealth") >= calls + 3; }, 3s))
      << "retried by the next cycles\n" << log();
  Healthz h;
  ASSERT_TRUE(wait_until([&] { return (h = healthz()).status == 503; }, 5s)) << h.status << " " << h.body;
  EXPECT_NE(h.body.find("aws.lifecycle: failing for"), std::string::npos) << h.body;
  EXPECT_EQ(lines_with(error_line), 1) << log();
  EXPECT_NE(line_with(error_line).find("SetInstanceHealth"), std::string::npos) << line_with(error_line);
  EXPECT_NE(line_with(error_line).find("AWS's side"), std::string::npos) << line_with(error_line);
  EXPECT_TRUE(rig_->sim().health_reports().empty());
  EXPECT_EQ(rig_->sim().unhealthy_replacements(), 0u);
  for (const auto& [name, v] : before) EXPECT_TRUE(rig_->haproxy_servers().contains(name)) << name << " removed";

  rig_->sim().clear_faults();
  ASSERT_TRUE(wait_until([&] {
    for (const auto& r : rig_->sim().health_reports())
      if (r.instance_id == victim && r.health == "Unhealthy" && r.applied) return true;
    return false;
  }, 5s)) << log();
  ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 5s)) << healthz().body << log();
  EXPECT_EQ(lines_with("aws.lifecycle: recovered after"), 1) << log();
  EXPECT_GE(failures_when_recovered("aws.lifecycle"), 2) << "retried: " << log();
  // The group replaces it, and HAProxy follows.
  ASSERT_TRUE(wait_until([&] {
    return rig_->sim().unhealthy_replacements() == 1 && !rig_->haproxy_servers().contains(victim) && converged() &&
           rig_->ready_servers().size() == 3;
  }, 15s)) << log();
  EXPECT_EQ(lines_with(error_line), 1) << log();
}

// Cluster cases: this daemon is one of the two nodes of cluster group lb (the test plays the other, through EC2's
// API, as its daemon would); app has two instances, a termination hook, and a drain_timeout far away (60 s), so a
// completion here is never the timeout's.
class FaultMatrixCluster : public FaultMatrixAws {
 protected:
  void start_cluster(int net) {
    sim::SimOptions opt;
    opt.instance_net = net;
    start_rig(opt, 2, false, "    lifecycle_hooks:\n      terminating: drain\n", "", "60s");
    put_drain_hook(30);
    ASSERT_TRUE(rig_->sim().create_group("lb", 2).ok());
    auto nodes = rig_->sim().instances("lb");
    self_ = nodes[0].id;
    other_ = nodes[1].id;
    const std::string yaml = rig_->dir().file("haproxy-asg.yaml");
    write_file(yaml, read_file(yaml) + "cluster:\n  group: lb\n  node_id: " + self_ + "\n");
    start_daemon();
  }
  // The other node records that it drained `instance`.
  void other_node_drained(const std::string& instance) {
    auto a = ec2("CreateTags", {{"ResourceId.1", instance},
                                {"Tag.1.Key", "haproxy-asg:drained:" + other_},
                                {"Tag.1.Value", "2026-12-01T00:00:00Z"}});
    ASSERT_EQ(a.status, 200) << a.body;
  }
  std::string self_, other_;
};

// CreateTags fails: this node drained the leaving instance but cannot say so; the other node, which cannot see the
// record, goes on waiting for it (and this node for the other's). Said once, retried each cycle; once EC2 answers,
// the record is written, and the hook completes once the other node recorded its drain too.
TEST_F(FaultMatrixCluster, CreateTagsFailing) {
  start_cluster(193);
  rig_->sim().inject({"CreateTags", K::ServerError, -1});
  const std::string leaving = newest();
  ASSERT_TRUE(rig_->sim().set_desired("app", 1).ok());
  const std::string error_line = " error: aws.cluster: ";
  ASSERT_TRUE(wait_until([&] { return lines_with(error_line) > 0; }, 15s)) << log();
  EXPECT_FALSE(rig_->haproxy_servers().contains(leaving)) << "drained and removed here";
  // Retried by the next cycles (a call is five attempts, with EC2's retries).
  const uint64_t calls = rig_->sim().calls("CreateTags");
  ASSERT_TRUE(wait_until([&] { return rig_->sim().calls("CreateTags") >= calls + 5; }, 10s)) << log();
  Healthz h;
  ASSERT_TRUE(wait_until([&] { return (h = healthz()).status == 503; }, 5s)) << h.status << " " << h.body;
  EXPECT_NE(h.body.find("aws.cluster: failing for"), std::string::npos) << h.body;
  EXPECT_EQ(lines_with(error_line), 1) << log();
  EXPECT_NE(line_with(error_line).find("CreateTags"), std::string::npos) << line_with(error_line);
  EXPECT_TRUE(records(leaving).empty()) << "the other node sees no record of this one";
  EXPECT_FALSE(completed(leaving));

  rig_->sim().clear_faults();
  ASSERT_TRUE(wait_until([&] { return records(leaving).contains("haproxy-asg:drained:" + self_); }, 5s)) << log();
  ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 5s)) << healthz().body << log();
  EXPECT_EQ(lines_with("aws.cluster: recovered after"), 1) << log();
  EXPECT_GE(failures_when_recovered("aws.cluster"), 2) << "retried: " << log();
  EXPECT_FALSE(completed(leaving)) << "still waiting for the other node";
  other_node_drained(leaving);
  ASSERT_TRUE(wait_until([&] { return completed(leaving); }, 5s)) << log();
  EXPECT_EQ(action(leaving)->completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(action(leaving)->result, "CONTINUE");
  EXPECT_EQ(lines_with(error_line), 1) << log();
}

// DescribeTags fails: this node cannot read the cluster's records, so it completes nothing before the drain timeout,
// although the other node has recorded its drain. Said once; once EC2 answers, the hook is completed at once.
TEST_F(FaultMatrixCluster, DescribeTagsFailing) {
  start_cluster(194);
  const std::string leaving = newest();
  ASSERT_TRUE(rig_->sim().set_desired("app", 1).ok());
  // Drained, removed and recorded here; then the records can no longer be read.
  ASSERT_TRUE(wait_until([&] { return records(leaving).contains("haproxy-asg:drained:" + self_); }, 10s)) << log();
  EXPECT_FALSE(completed(leaving));
  rig_->sim().inject({"DescribeTags", K::ServerError, -1});
  other_node_drained(leaving);

  const std::string error_line = " error: aws.cluster: ";
  ASSERT_TRUE(wait_until([&] { return lines_with(error_line) > 0; }, 15s)) << log();
  const uint64_t calls = rig_->sim().calls("DescribeTags");
  ASSERT_TRUE(wait_until([&] { return rig_->sim().calls("DescribeTags") >= calls + 5; }, 10s)) << log();
  Healthz h;
  ASSERT_TRUE(wait_until([&] { return (h = healthz()).status == 503; }, 5s)) << h.status << " " << h.body;
  EXPECT_NE(h.body.find("aws.cluster: failing for"), std::string::npos) << h.body;
  EXPECT_EQ(lines_with(error_line), 1) << log();
  EXPECT_NE(line_with(error_line).find("DescribeTags"), std::string::npos) << line_with(error_line);
  EXPECT_FALSE(completed(leaving)) << "every record is there, but this node cannot see them";
  EXPECT_EQ(lines_with("cannot read the drain records"), 0) << "said once, by the error line: " << log();

  rig_->sim().clear_faults();
  ASSERT_TRUE(wait_until([&] { return completed(leaving); }, 5s)) << log();
  EXPECT_EQ(action(leaving)->completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(action(leaving)->result, "CONTINUE");
  ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 5s)) << healthz().body << log();
  EXPECT_EQ(lines_with("aws.cluster: recovered after"), 1) << log();
  EXPECT_GE(failures_when_recovered("aws.cluster"), 2) << "retried: " << log();
  EXPECT_EQ(lines_with(error_line), 1) << log();
  EXPECT_EQ(lines_with("every other node of the cluster drained it too (" + other_ + ")"), 1) << log();
}

// A lifecycle call outlives the lifecycle client's request timeout (3 s): Auto Scaling answers each heartbeat 4 s
// late (each still takes effect, as a late answer of AWS's does). Reported with its code, RequestTimeout, once
// every attempt timed out; once answers come in time again, the next heartbeat goes through, and the fault ends.
TEST_F(FaultMatrixAws, LifecycleRequestTimeout) {
  sim::SimOptions opt;
  opt.instance_net = 195;
  opt.instance_delay_ms = 40000;
  start_rig(opt, 2, false, "    lifecycle_hooks:\n      terminating: drain\n", "", "20s");
  put_drain_hook(30);
  start_daemon();
  rig_->sim().inject({"RecordLifecycleActionHeartbeat", K::Slow, -1, 4000});
  const std::string leaving = scale_in_while_busy();  // the first sight's heartbeat is sent at once
  ASSERT_FALSE(HasFailure());
  const std::string error_line = " error: aws.lifecycle: ";
  ASSERT_TRUE(wait_until([&] { return lines_with(error_line) > 0; }, 20s)) << log();
  const std::string line = line_with(error_line);
  EXPECT_NE(line.find("RecordLifecycleActionHeartbeat failed after 3 attempts: RequestTimeout"), std::string::npos)
      << line;
  EXPECT_NE(line.find("no answer within 3000 ms"), std::string::npos) << line;
  EXPECT_NE(line.find("does not answer"), std::string::npos) << "the remedy: " << line;
  Healthz h;
  ASSERT_TRUE(wait_until([&] { return (h = healthz()).status == 503; }, 5s)) << h.status << " " << h.body;
  EXPECT_NE(h.body.find("aws.lifecycle: failing for"), std::string::npos) << h.body;
  EXPECT_TRUE(rig_->haproxy_servers()[leaving].ends_with(" drain"));
  EXPECT_FALSE(completed(leaving));

  rig_->sim().clear_faults();
  ASSERT_TRUE(wait_until([&] { return healthz().body == "ok\n"; }, 15s)) << healthz().body << log();
  EXPECT_EQ(lines_with("aws.lifecycle: recovered after"), 1) << log();
  EXPECT_EQ(lines_with("lifecycle hook drain of app: heartbeat for " + leaving + " (draining for"), 1)
      << "the heartbeat answered in time went through: " << log();
  EXPECT_EQ(lines_with(error_line), 1) << log();
  ASSERT_TRUE(wait_until([&] { return completed(leaving); }, 20s)) << log();
  EXPECT_EQ(action(leaving)->completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(action(leaving)->result, "CONTINUE");
  end_held_requests();
}

}  // namespace
}  // namespace hasg::test
