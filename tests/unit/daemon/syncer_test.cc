// The sync cycle's order of work and its failure paths, with every edge in memory: what is staged, installed,
// applied and reloaded when HAProxy, the file or a reload misbehaves.
#include "daemon/syncer.h"

#include <gtest/gtest.h>

#include "core/server_id.h"

namespace hasg::daemon {
namespace {

class FakeProvider : public discovery::Provider {
 public:
  Result<std::vector<core::GroupMembers>> discover(const std::vector<std::string>&) override {
    if (fail) return make_error("InternalFailure", "Auto Scaling DescribeAutoScalingGroups failed");
    return groups;
  }
  void set_members(std::vector<std::pair<std::string, std::string>> id_addr, bool found = true) {
    core::GroupMembers g{"app", found, {}};
    for (auto& [id, addr] : id_addr)
      g.members.push_back({id, "app", "InService", "Healthy", "z", "running", addr, "", true, ""});
    groups = {g};
  }
  std::vector<core::GroupMembers> groups;
  bool fail = false;
};

class FakeControl : public HaproxyControl {
 public:
  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>&) override {
    if (!servers_error.code.empty()) return servers_error;
    return actual;
  }
  Result<haproxy::RuntimeClient::ApplyResult> apply(const std::vector<core::Op>& ops) override {
    applied.insert(applied.end(), ops.begin(), ops.end());
    for (const auto& op : ops) {
      auto& v = actual[0].servers;
      if (op.kind == core::OpKind::Add)
        v.push_back({op.server, op.address, op.port, core::AdminState::Ready, true, 0, false, false, op.server_id});
    }
    return haproxy::RuntimeClient::ApplyResult{ops.size(), ops.size()};
  }
  Status reload() override {
    ++reloads;
    if (reload_fails) return make_error("ReloadFailed", "the new worker did not start");
    return Ok{};
  }
  std::vector<core::ActualBackend> actual{{"app", true, {}}};
  Error servers_error;
  std::vector<core::Op> applied;
  int reloads = 0;
  bool reload_fails = false;
};

class FakeFiles : public ConfigFiles {
 public:
  Result<std::string> read_template() override { return tmpl; }
  Result<std::string> read_current() override { return current; }
  Status stage(const std::string& text) override {
    ++stages;
    if (invalid) return make_error("InvalidConfig", "rejected by haproxy -c");
    staged = text;
    return Ok{};
  }
  Status install() override {
    if (!staged) return make_error("NothingStaged", "install() without stage()");
    current = *staged;
    staged.reset();
    ++installs;
    return Ok{};
  }
  std::string tmpl = "defaults\n    mode http\n\nbackend app\n    balance roundrobin\n";
  std::string current;
  std::optional<std::string> staged;
  int stages = 0;
  int installs = 0;
  bool invalid = false;
};

config::Config test_config() {
  config::Config c;
  c.haproxy.template_path = "/etc/haproxy/haproxy.cfg.template";
  c.haproxy.config_path = "/etc/haproxy/haproxy.cfg";
  c.backends.push_back({"app", "app", 80, "check", std::chrono::seconds(30), "ipv4", "", "", std::chrono::minutes(5), false, std::chrono::seconds(30), 0.25});
  return c;
}

struct SyncerTest : ::testing::Test {
  // As in production: `once` writes the file while HAProxy is down, then HAProxy starts from it.
  void SetUp() override {
    provider.set_members({{"i-1", "127.0.0.2"}});
    control.servers_error = make_error("HaproxyNotRunning", "admin.sock: connect: No such file or directory");
    ASSERT_TRUE(run(false).ok());
    control.servers_error = Error{};
    control.actual[0].servers = {
        {"i-1", "127.0.0.2", 80, core::AdminState::Ready, true, 0, false, false, core::server_id_candidate("i-1")}};
    files.stages = files.installs = 0;
  }

  // One cycle, carrying the state to the next one as the daemon does.
  Result<CycleReport> run(bool dry_run) {
    auto outcome = syncer.run(state, dry_run);
    state = outcome.state;
    discovery_ok = outcome.discovery_ok;
    return outcome.report;
  }

  FakeProvider provider;
  FakeControl control;
  FakeFiles files;
  Syncer syncer{test_config(), provider, control, files};
  core::SyncState state;
  bool discovery_ok = false;
};

TEST_F(SyncerTest, MembershipGoesThroughTheRuntimeApiThenTheFile) {
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  auto r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].kind, core::OpKind::Add);
  EXPECT_EQ(control.reloads, 0) << "membership only: the file is written, HAProxy is not reloaded";
  EXPECT_EQ(control.applied[0].server_id, core::server_id_candidate("i-2"));
  // The file gives each server the id HAProxy has for it, so a reload keeps their places on a hashing ring.
  EXPECT_NE(files.current.find("server i-1 127.0.0.2:80 id " + std::to_string(core::server_id_candidate("i-1")) +
                               " check"),
            std::string::npos)
      << files.current;
  EXPECT_NE(files.current.find("server i-2 127.0.0.3:80 id " + std::to_string(core::server_id_candidate("i-2")) +
                               " check"),
            std::string::npos)
      << files.current;
  EXPECT_EQ(files.installs, 1);

  // Idle: nothing staged, installed, applied or reloaded.
  control.applied.clear();
  r = run(false);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changes());
  EXPECT_EQ(files.stages, 1);
  EXPECT_EQ(files.installs, 1);
  EXPECT_TRUE(control.applied.empty());
  EXPECT_EQ(control.reloads, 0);
}

TEST_F(SyncerTest, AFailedReloadIsRetriedByTheNextCycles) {
  files.tmpl += "    timeout queue 5s\n";  // a structural change
  control.reload_fails = true;
  auto r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ReloadFailed");
  EXPECT_EQ(control.reloads, 1);
  EXPECT_NE(files.current.find("timeout queue 5s"), std::string::npos) << "the validated file is in place";
  EXPECT_TRUE(state.reload_pending);

  // The file now equals the render, but HAProxy still runs the old structure: the reload is tried again, and
  // nothing is installed without having been staged.
  r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(control.reloads, 2);
  control.reload_fails = false;
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->reloaded);
  EXPECT_EQ(control.reloads, 3);
  EXPECT_FALSE(state.reload_pending);
  r = run(false);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->reloaded);
  EXPECT_EQ(control.reloads, 3);
}

// The certificate watch asks for a reload it cannot do at runtime: the same path as every reload, validated with
// `haproxy -c` first even though the file does not change (it loads the certificates), and forgotten once done.
// While validation fails, only the reload waits: membership still goes through the Runtime API.
TEST_F(SyncerTest, ARequestedReloadIsValidatedFirstAndThenForgotten) {
  ASSERT_TRUE(run(false).ok());
  ASSERT_EQ(files.stages, 0) << "idle: nothing to validate";
  state.reload_requested = "certificates: /c/list no longer lists /c/b.pem";
  files.invalid = true;  // e.g. a certificate on disk that HAProxy cannot load
  // No membership change in this cycle: the file stays as it is, so only the reload is at stake.
  auto r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->reloaded);
  EXPECT_EQ(control.reloads, 0) << "no reload of a configuration that fails haproxy -c";
  EXPECT_EQ(state.reload_requested, "certificates: /c/list no longer lists /c/b.pem") << "kept for the next cycle";
  EXPECT_EQ(files.stages, 1);
  files.invalid = false;
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->reloaded);
  EXPECT_EQ(r->plan.reload_reason, "certificates: /c/list no longer lists /c/b.pem");
  EXPECT_EQ(files.stages, 2);
  EXPECT_EQ(files.installs, 0) << "the file did not change";
  EXPECT_EQ(control.reloads, 1);
  EXPECT_TRUE(state.reload_requested.empty());
  EXPECT_FALSE(run(false)->reloaded);
}

TEST_F(SyncerTest, ASocketErrorIsNotHaproxyBeingAbsent) {
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-3", "127.0.0.4"}});
  control.servers_error = make_error("ConnectionError", "admin.sock: connect: Permission denied", true);
  auto r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Permission denied"), std::string::npos);
  EXPECT_EQ(files.installs, 0);

  control.servers_error = make_error("HaproxyNotRunning", "admin.sock: connect: No such file or directory");
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->haproxy_running);
  EXPECT_EQ(files.installs, 1);
  EXPECT_NE(files.current.find("server i-3 "), std::string::npos);
}

TEST_F(SyncerTest, IncompleteDiscoveryNeverWritesAFileThatCouldEmptyABackend) {
  files.current = "previous good file\n";
  provider.set_members({}, /*found=*/false);
  control.servers_error = make_error("HaproxyNotRunning", "not running");
  auto r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteDiscovery");
  EXPECT_EQ(files.current, "previous good file\n");
  EXPECT_EQ(files.stages, 0);
}

TEST_F(SyncerTest, FailedValidationChangesNothing) {
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  files.invalid = true;
  auto r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidConfig");
  EXPECT_TRUE(control.applied.empty()) << "no runtime command before the render is validated";
  EXPECT_EQ(files.installs, 0);
}

TEST_F(SyncerTest, DiscoveryFailureIsReportedAsSuch) {
  provider.fail = true;
  auto r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(discovery_ok);
  provider.fail = false;
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  files.invalid = true;
  r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(discovery_ok) << "a cycle failing after discovery does not say discovery failed";
}

class FakeLifecycle : public LifecycleControl {
 public:
  Status complete(const std::string&, const std::string&, const std::string& i, const std::string&) override {
    completed.push_back(i);
    return Ok{};
  }
  Status heartbeat(const std::string&, const std::string&, const std::string& i) override {
    beats.push_back(i);
    return Ok{};
  }
  std::chrono::milliseconds heartbeat_timeout(const std::string&, const std::string&) override {
    return std::chrono::seconds(60);
  }
  Status report_unhealthy(const std::string& i) override {
    reported.push_back(i);
    return Ok{};
  }
  std::vector<std::string> completed, beats, reported;
};

TEST_F(SyncerTest, AFailedCycleStillKeepsDrainingInstancesHooksAlive) {
  FakeLifecycle lifecycle;
  Syncer with_hooks{test_config(), provider, control, files, &lifecycle};
  const auto now = core::Clock::now();
  core::SyncState s;
  s.hooks["app/drain/i-1"] = core::HookWait{"app", "drain", "terminating", now - std::chrono::seconds(25),
                                            now - std::chrono::seconds(25), false};
  s.hooks["app/drain/i-2"] = core::HookWait{"app", "drain", "terminating", now, now, false};
  s.hooks["app/drain/i-3"] = core::HookWait{"app", "drain", "terminating", now - std::chrono::seconds(99),
                                            now - std::chrono::seconds(99), true};
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-9", "127.0.0.9"}});  // a change to validate...
  files.invalid = true;                                                // ...that fails `haproxy -c`
  auto outcome = with_hooks.run(s, false);
  ASSERT_FALSE(outcome.report.ok());
  EXPECT_EQ(lifecycle.beats, std::vector<std::string>{"i-1"}) << "due (60 s / 3 = 20 s), not too early, not done";
  EXPECT_TRUE(lifecycle.completed.empty()) << "nothing is completed on a failed cycle";
  ASSERT_TRUE(outcome.next_due.has_value());
  EXPECT_LE(*outcome.next_due, now + std::chrono::seconds(21)) << "i-2's heartbeat, due in 20 s";
  EXPECT_GE(outcome.state.hooks.at("app/drain/i-1").last_beat, now);

  // A failed discovery decides nothing and sends nothing.
  lifecycle.beats.clear();
  provider.fail = true;
  outcome = with_hooks.run(s, false);
  EXPECT_TRUE(lifecycle.beats.empty());
}

// cluster.peers: the cluster's nodes are structure. A node joining or leaving the cluster group reloads HAProxy
// (validated first, like every reload); a cycle where they stay the same reloads nothing, whatever the servers do.
TEST(SyncerPeers, AMembershipChangeOfTheClusterReloadsAndNothingElseDoes) {
  auto cfg = test_config();
  cfg.cluster.group = "lb";
  cfg.cluster.node_id = "i-n1";
  cfg.cluster.peers_section = "lb";
  cfg.cluster.peers_port = 10000;
  FakeProvider provider;
  FakeControl control;
  FakeFiles files;
  files.tmpl = "global\n    log stderr local0\n\npeers lb\n\nbackend app\n    balance roundrobin\n";
  Syncer syncer{cfg, provider, control, files};
  core::SyncState state;
  auto set_nodes = [&](std::vector<std::pair<std::string, std::string>> nodes) {
    provider.set_members({{"i-1", "127.0.0.2"}});
    core::GroupMembers lb{"lb", true, {}};
    for (auto& [id, addr] : nodes)
      lb.members.push_back({id, "lb", "InService", "Healthy", "z", "running", addr, "", true, ""});
    provider.groups.push_back(lb);
  };
  auto cycle = [&] {
    auto out = syncer.run(state, false);
    state = out.state;
    EXPECT_TRUE(out.report.ok()) << out.report.error().message;
    return out.report.ok() ? *out.report : CycleReport{};
  };
  // HAProxy runs a file written for the two nodes.
  set_nodes({{"i-n1", "127.0.1.2"}, {"i-n2", "127.0.1.3"}});
  control.servers_error = make_error("HaproxyNotRunning", "admin.sock: connect: No such file or directory");
  cycle();
  control.servers_error = Error{};
  ASSERT_NE(files.current.find("    localpeer i-n1\n"), std::string::npos) << files.current;
  ASSERT_NE(files.current.find("    peer i-n1 127.0.1.2:10000\n    peer i-n2 127.0.1.3:10000\n"), std::string::npos)
      << files.current;
  cycle();  // adds i-1 through the runtime API
  EXPECT_EQ(control.reloads, 0);

  // The app group changes, the cluster does not: runtime API only.
  provider.groups[0].members.push_back({"i-2", "app", "InService", "Healthy", "z", "running", "127.0.0.3", "", true, ""});
  auto r = cycle();
  EXPECT_FALSE(r.plan.reload_needed) << r.plan.reload_reason;
  EXPECT_EQ(control.reloads, 0);

  // A third node joins: a reload, and the file names it.
  auto app = provider.groups[0];
  set_nodes({{"i-n1", "127.0.1.2"}, {"i-n2", "127.0.1.3"}, {"i-n3", "127.0.1.4"}});
  provider.groups[0] = app;
  r = cycle();
  EXPECT_TRUE(r.plan.reload_needed);
  EXPECT_EQ(r.plan.reload_reason, "the configuration's structure changed");
  EXPECT_EQ(control.reloads, 1);
  EXPECT_NE(files.current.find("    peer i-n3 127.0.1.4:10000\n"), std::string::npos) << files.current;
  // Then nothing: no reload.
  r = cycle();
  EXPECT_FALSE(r.plan.reload_needed);
  EXPECT_EQ(control.reloads, 1);
  // A node leaving InService leaves the peers: a reload.
  provider.groups[1].members[1].lifecycle_state = "Terminating:Wait";
  r = cycle();
  EXPECT_EQ(control.reloads, 2);
  EXPECT_EQ(files.current.find("peer i-n2 "), std::string::npos) << files.current;
}

}  // namespace
}  // namespace hasg::daemon
