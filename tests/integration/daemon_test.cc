// `haproxy-asg run` as an SRE runs it, against a real HAProxy and the simulator: it adopts what HAProxy already
// runs without flapping, SIGHUP re-reads the YAML (a bad file keeps the old one), discovery failures keep the last
// good membership and turn /healthz red, /metrics follows real changes, SIGTERM stops it cleanly.
#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>

#include "sync_rig.h"

namespace hasg::test {
namespace {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }

  void start_rig(int net, int desired = 3) {
    // Port 0: the daemon's start line says which port it got (no free port to race for under ctest -j).
    rig_ = std::make_unique<SyncRig>(net, desired, "listen: 127.0.0.1:0\n");
    auto r = rig_->cli({"once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(rig_->start_haproxy());
  }

  void start_daemon() {
    daemon_ = std::make_unique<Process>(
        std::vector<std::string>{binary_path("haproxy-asg"), "run", "--config", rig_->dir().file("haproxy-asg.yaml")},
        sim_env(rig_->sim()), log_path());
    const size_t before = log().size();  // a restart appends to the same log, and gets another port
    ASSERT_TRUE(wait_until([&] { return (listen_port_ = daemon_port_from_log(log().substr(before))) != 0; }))
        << log();
    ASSERT_TRUE(wait_until([&] { return http("/healthz").exit_code == 0; })) << log();
  }

  std::string log_path() const { return rig_->dir().file("daemon.log"); }
  std::string log() const { return read_file(log_path()); }

  CommandResult http(const std::string& path) const {
    return run_command({"/usr/bin/curl", "-s", "-f", "--max-time", "3",
                        "http://127.0.0.1:" + std::to_string(listen_port_) + path});
  }

  // A metric's value from /metrics (-1 when absent).
  double metric(const std::string& series) const {
    std::istringstream in(http("/metrics").out);
    std::string line;
    while (std::getline(in, line))
      if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
    return -1;
  }

  bool converged() const { return rig_->ready_servers() == rig_->in_service() &&
                                  rig_->haproxy_servers().size() == rig_->in_service().size(); }

  int listen_port_ = 0;
  std::unique_ptr<SyncRig> rig_;
  std::unique_ptr<Process> daemon_;
};

TEST_F(DaemonTest, FollowsTheGroupAndStopsCleanlyOnSigterm) {
  start_rig(41);
  start_daemon();
  ASSERT_TRUE(rig_->sim().set_desired("app", 6).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->in_service().size() == 6; })) << log();
  ASSERT_TRUE(rig_->sim().set_desired("app", 2).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->in_service().size() == 2; })) << log();
  EXPECT_EQ(rig_->file_server_names(), rig_->ready_servers());
  EXPECT_EQ(rig_->reloads(), 0);
  daemon_->signal(SIGTERM);
  EXPECT_EQ(daemon_->wait(std::chrono::seconds(10)), 0) << log();
  EXPECT_NE(log().find("haproxy-asg stopping"), std::string::npos);
}

TEST_F(DaemonTest, RestartAdoptsWhatHaproxyRunsWithoutFlapping) {
  start_rig(42);
  start_daemon();
  ASSERT_TRUE(rig_->sim().set_desired("app", 5).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->in_service().size() == 5; })) << log();
  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait(), 0);
  std::string before = log();
  auto servers = rig_->haproxy_servers();

  start_daemon();
  // Three cycles at a 1 s interval: nothing to do, so nothing done.
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_cycles_total{outcome=\"ok\"}") >= 3; })) << log();
  std::string after = log().substr(before.size());
  EXPECT_EQ(after.find(" add "), std::string::npos) << after;
  EXPECT_EQ(after.find(" drain "), std::string::npos) << after;
  EXPECT_EQ(after.find(" remove "), std::string::npos) << after;
  EXPECT_EQ(metric("haproxy_asg_runtime_commands_total"), 0);
  EXPECT_EQ(rig_->haproxy_servers(), servers);
  EXPECT_EQ(rig_->reloads(), 0);
}

TEST_F(DaemonTest, SighupWithABadFileKeepsTheOldOneAndAGoodOneApplies) {
  start_rig(43);
  start_daemon();
  const std::string yaml_path = rig_->dir().file("haproxy-asg.yaml");
  const std::string good = read_file(yaml_path);

  write_file(yaml_path, good + "  - backend: app\n    group: app\n    port: not-a-port\n");
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return log().find("SIGHUP: keeping the running configuration") != std::string::npos; }))
      << log();
  EXPECT_NE(log().find("haproxy-asg.yaml:"), std::string::npos) << "the error names the file and line: " << log();
  // Still working on the old configuration.
  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->in_service().size() == 4; })) << log();
  EXPECT_TRUE(daemon_->alive());

  // A good file with other server options: a structural change, applied by one checked reload.
  std::string changed = std::regex_replace(good, std::regex("check inter 500ms"), "check inter 400ms");
  ASSERT_NE(changed, good);
  write_file(yaml_path, changed);
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return rig_->reloads() == 1; })) << log();
  EXPECT_NE(log().find("SIGHUP: configuration reloaded"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return converged(); })) << log();
  EXPECT_NE(read_file(rig_->config_file()).find("check inter 400ms"), std::string::npos);
  // Two more cycles after it: still the one reload.
  const double cycles = metric("haproxy_asg_cycles_total{outcome=\"ok\"}");
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_cycles_total{outcome=\"ok\"}") >= cycles + 2; })) << log();
  EXPECT_EQ(rig_->reloads(), 1) << "one reload for one structural change";
}

TEST_F(DaemonTest, DiscoveryFailureKeepsTheLastGoodMembershipAndHealthzTurnsRed) {
  start_rig(44, 4);
  start_daemon();
  auto servers = rig_->haproxy_servers();
  ASSERT_EQ(servers.size(), 4u);
  rig_->sim().inject({"*", sim::Fault::Kind::ServerError, -1, 0});
  ASSERT_TRUE(rig_->sim().set_desired("app", 1).ok());
  // Three intervals without a successful cycle: /healthz answers 503 and says why.
  ASSERT_TRUE(wait_until([&] { return http("/healthz").exit_code != 0; }, std::chrono::seconds(15))) << log();
  auto health = run_command({"/usr/bin/curl", "-s", "--max-time", "3",
                             "http://127.0.0.1:" + std::to_string(listen_port_) + "/healthz"});
  EXPECT_NE(health.out.find("InternalFailure"), std::string::npos) << health.out;
  EXPECT_EQ(rig_->haproxy_servers(), servers);
  EXPECT_EQ(metric("haproxy_asg_discovery_ok"), 0);
  EXPECT_GE(metric("haproxy_asg_errors_total{code=\"InternalFailure\"}"), 1);

  rig_->sim().clear_faults();
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->haproxy_servers().size() == 1; },
                         std::chrono::seconds(30)))
      << log();
  ASSERT_TRUE(wait_until([&] { return http("/healthz").exit_code == 0; }));
  EXPECT_EQ(metric("haproxy_asg_discovery_ok"), 1);
}

// An unchanged cycle makes no desire/plan/render and no HAProxy or file write: it is counted as skipped. A change
// (a scale-out, the file removed by hand) is still acted on at once.
TEST_F(DaemonTest, UnchangedCyclesAreSkippedAndChangesStillApply) {
  start_rig(47);
  start_daemon();
  ASSERT_TRUE(wait_until([&] { return converged(); })) << log();
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_cycles_skipped_total") >= 2; })) << log();
  const double commands = metric("haproxy_asg_runtime_commands_total");
  const double writes = metric("haproxy_asg_config_writes_total");
  const double skipped = metric("haproxy_asg_cycles_skipped_total");
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_cycles_skipped_total") >= skipped + 2; })) << log();
  EXPECT_EQ(metric("haproxy_asg_runtime_commands_total"), commands);
  EXPECT_EQ(metric("haproxy_asg_config_writes_total"), writes);
  EXPECT_EQ(metric("haproxy_asg_cycles_total{outcome=\"error\"}"), -1);

  ASSERT_TRUE(rig_->sim().set_desired("app", 5).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->in_service().size() == 5; })) << log();
  // The file follows in the same cycle, after the runtime commands.
  ASSERT_TRUE(wait_until([&] { return rig_->file_server_names() == rig_->ready_servers(); })) << log();

  // A server line of the file HAProxy would restart from, deleted by hand: put back by the next cycle (no reload:
  // the structure is the same).
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_cycles_skipped_total") >= skipped + 3; })) << log();
  std::string text = read_file(rig_->config_file());
  const size_t line = text.find("    server i-");
  ASSERT_NE(line, std::string::npos) << text;
  text.erase(line, text.find('\n', line) + 1 - line);
  write_file(rig_->config_file(), text);
  ASSERT_NE(rig_->file_server_names(), rig_->ready_servers());
  ASSERT_TRUE(wait_until([&] { return rig_->file_server_names() == rig_->ready_servers(); })) << log();
  EXPECT_EQ(rig_->reloads(), 0);
}

TEST_F(DaemonTest, MetricsFollowRealChanges) {
  start_rig(45);
  start_daemon();
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_servers{backend=\"app\",state=\"ready\"}") == 3; }));
  double calls = metric("haproxy_asg_aws_calls_total{operation=\"DescribeAutoScalingGroups\",outcome=\"ok\"}");
  EXPECT_GE(calls, 1);
  EXPECT_EQ(metric("haproxy_asg_operations_total{op=\"add\"}"), -1);  // nothing added yet: no series

  ASSERT_TRUE(rig_->sim().set_desired("app", 5).ok());
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_operations_total{op=\"add\"}") == 2; })) << log();
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_servers{backend=\"app\",state=\"ready\"}") == 5; }));
  EXPECT_GT(metric("haproxy_asg_aws_calls_total{operation=\"DescribeAutoScalingGroups\",outcome=\"ok\"}"), calls);
  EXPECT_EQ(metric("haproxy_asg_aws_calls_total{operation=\"DescribeInstances\",outcome=\"ok\"}"), 2);
  EXPECT_GE(metric("haproxy_asg_runtime_commands_total"), 6);  // add, enable health, ready: twice
  EXPECT_EQ(metric("haproxy_asg_reloads_total"), -1);

  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  ASSERT_TRUE(wait_until([&] { return metric("haproxy_asg_operations_total{op=\"remove\"}") == 1; })) << log();
  EXPECT_EQ(metric("haproxy_asg_operations_total{op=\"drain\"}"), 1);
  EXPECT_EQ(metric("haproxy_asg_drain_seconds_count"), 1);
  auto status = http("/status");
  EXPECT_NE(status.out.find("\"backend\": \"app\""), std::string::npos) << status.out;
}

TEST_F(DaemonTest, JsonLogsAreOneObjectPerLine) {
  start_rig(46);
  const std::string yaml_path = rig_->dir().file("haproxy-asg.yaml");
  write_file(yaml_path, read_file(yaml_path) + "log_format: json\n");
  start_daemon();
  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  ASSERT_TRUE(wait_until([&] { return log().find("\"msg\":\"add app/") != std::string::npos; })) << log();
  std::istringstream in(log());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    ++lines;
  }
  EXPECT_GE(lines, 2);
}

}  // namespace
}  // namespace hasg::test
