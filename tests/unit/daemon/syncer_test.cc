// The sync cycle's order of work and its failure paths, with every edge in memory: what is staged, installed,
// applied and reloaded when HAProxy, the file or a reload misbehaves.
#include "daemon/syncer.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "core/server_id.h"

namespace hasg::daemon {
namespace {

class FakeProvider : public discovery::Provider {
 public:
  Result<std::vector<core::GroupMembers>> discover(const std::vector<std::string>&) override {
    std::this_thread::sleep_for(delay);
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
  std::chrono::milliseconds delay{0};  // AWS taking its time
};

class FakeControl : public HaproxyControl {
 public:
  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>&,
                                                   const std::set<std::string>& sessions) override {
    sessions_of = sessions;
    if (!servers_error.code.empty()) return servers_error;
    return actual;
  }
  // As HAProxy does: op by op, each applied before the next is sent; with fail_at_op, that op is refused and the
  // rest never sent (RuntimeClient stops at the first unexpected answer).
  Result<haproxy::RuntimeClient::ApplyResult> apply(const std::vector<core::Op>& ops) override {
    std::this_thread::sleep_for(apply_delay);
    size_t done = 0;
    for (const auto& op : ops) {
      if (fail_at_op >= 0 && done == static_cast<size_t>(fail_at_op)) {
        fail_at_op = -1;
        return make_error("HaproxyCommandFailed", "op " + std::to_string(done + 1) + " of " +
                                                      std::to_string(ops.size()) + ": " + op.server +
                                                      ": No such server.");
      }
      applied.push_back(op);
      auto& v = actual[0].servers;
      if (op.kind == core::OpKind::Add)
        v.push_back({op.server, op.address, op.port, core::AdminState::Ready, true, 0, false, false, op.server_id});
      ++done;
    }
    return haproxy::RuntimeClient::ApplyResult{ops.size(), ops.size(), {}};
  }
  Status reload() override {
    ++reloads;
    if (!reload_error.code.empty()) return reload_error;
    if (reload_fails) return make_error("ReloadFailed", "the new worker did not start");
    return Ok{};
  }
  int fail_at_op = -1;
  std::chrono::milliseconds apply_delay{0};
  Error reload_error;
  std::vector<core::ActualBackend> actual{{"app", true, {}}};
  std::set<std::string> sessions_of;  // what the last servers() call asked sessions for
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
    std::this_thread::sleep_for(stage_delay);
    if (unwritable) return make_error("IOError", "cannot write /etc/haproxy/haproxy.cfg.haproxy-asg-new: No space left on device");
    if (invalid) return make_error("InvalidConfig", "rejected by haproxy -c");
    staged = text;
    return Ok{};
  }
  Status stage_unchecked(const std::string& text) override {
    ++unchecked;
    staged = text;
    return Ok{};
  }
  Status install() override {
    if (!staged) return make_error("NothingStaged", "install() without stage()");
    if (unwritable) return make_error("IOError", "cannot write /etc/haproxy/haproxy.cfg: No space left on device");
    current = *staged;
    staged.reset();
    ++installs;
    return Ok{};
  }
  std::string tmpl = "defaults\n    mode http\n\nbackend app\n    balance roundrobin\n";
  std::string current;
  std::optional<std::string> staged;
  int stages = 0;     // validated with `haproxy -c`
  int unchecked = 0;  // taken without it (a membership change after a validated render)
  int installs = 0;
  bool invalid = false;
  bool unwritable = false;  // a full disk or a read-only directory
  std::chrono::milliseconds stage_delay{0};  // `haproxy -c` on a big file
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
    last = outcome;
    return outcome.report;
  }

  // The edge faults the last cycle saw ("key" each), and the edges it saw working.
  std::set<std::string> faults() const {
    std::set<std::string> out;
    for (const auto& f : last.faults) out.insert(f.key);
    return out;
  }
  std::set<std::string> working() const { return {last.working.begin(), last.working.end()}; }

  FakeProvider provider;
  FakeControl control;
  FakeFiles files;
  Syncer syncer{test_config(), provider, control, files};
  core::SyncState state;
  bool discovery_ok = false;
  CycleOutcome last{CycleReport{}, {}, false, std::nullopt, {}, {}};
};

TEST_F(SyncerTest, MembershipGoesThroughTheRuntimeApiThenTheFile) {
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  auto r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].kind, core::OpKind::Add);
  EXPECT_EQ(control.reloads, 0) << "membership only: the file is written, HAProxy is not reloaded";
  EXPECT_EQ(files.stages, 0) << "membership only, after a validated render: no haproxy -c";
  EXPECT_EQ(files.unchecked, 1);
  EXPECT_FALSE(r->config_validated);
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
  EXPECT_EQ(files.stages + files.unchecked, 1);
  EXPECT_EQ(files.installs, 1);
  EXPECT_TRUE(control.applied.empty());
  EXPECT_EQ(control.reloads, 0);
}

// A cycle longer than its interval is logged with these: each phase's time goes to that phase, haproxy -c's not to
// applying.
TEST_F(SyncerTest, ACycleSaysWhereItsTimeWent) {
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  provider.delay = std::chrono::milliseconds(50);
  files.stage_delay = std::chrono::milliseconds(300);
  control.apply_delay = std::chrono::milliseconds(100);
  // A syncer just started (validated nothing yet): the membership change is validated.
  Syncer fresh{test_config(), provider, control, files};
  auto outcome = fresh.run(state, false);
  auto& r = outcome.report;
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(control.applied.size(), 1u);
  ASSERT_TRUE(r->config_validated);
  EXPECT_GE(r->phases.discover, 0.05);
  EXPECT_LT(r->phases.discover, 0.3) << "AWS is not charged with haproxy -c";
  EXPECT_GE(r->phases.validate, 0.3);
  EXPECT_GE(r->phases.apply, 0.1);
  EXPECT_LT(r->phases.apply, 0.3) << "applying is not charged with haproxy -c";
  EXPECT_LT(r->phases.observe, 0.3);

  // Nothing to validate: no time for it.
  provider.delay = std::chrono::milliseconds(0);
  outcome = fresh.run(outcome.state, false);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->config_changed);
  EXPECT_LT(r->phases.validate, 0.3);
}

// `haproxy -c` runs on every render but one that differs from a validated one only in server lines of a form
// HAProxy accepted (haproxy::admits()), while HAProxy runs and nothing reloads.
TEST_F(SyncerTest, OnlyAMembershipChangeAfterAValidatedRenderSkipsHaproxyC) {
  // SetUp validated the file HAProxy started from (i-1): membership changes from there go without it.
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}, {"i-3", "::1"}});
  auto r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(files.stages, 0);
  EXPECT_EQ(files.unchecked, 1);
  EXPECT_EQ(files.installs, 1);
  EXPECT_NE(files.current.find("server i-3 [::1]:80"), std::string::npos) << files.current;

  // A structural change (the template edited): validated, and reloaded.
  files.tmpl += "    timeout server 5s\n";
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(files.stages, 1);
  EXPECT_TRUE(r->config_validated);
  EXPECT_EQ(control.reloads, 1);
  control.actual[0].servers.clear();
  for (const auto& [id, addr] : {std::pair{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}, {"i-3", "::1"}})
    control.actual[0].servers.push_back(
        {id, addr, 80, core::AdminState::Ready, true, 0, false, false, core::server_id_candidate(id)});

  // Membership only again: unchecked.
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}, {"i-3", "::1"}, {"i-4", "127.0.0.4"}});
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(files.stages, 1);
  EXPECT_EQ(files.unchecked, 2);
  EXPECT_FALSE(r->config_validated);

  // With HAProxy down, the file is what it will start from: validated.
  control.servers_error = make_error("HaproxyNotRunning", "admin.sock: connect: No such file or directory");
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(files.stages, 2);
  EXPECT_EQ(files.unchecked, 2);
  control.servers_error = Error{};
}

TEST_F(SyncerTest, AFailedReloadIsRetriedByTheNextCycles) {
  files.tmpl += "    timeout queue 5s\n";  // a structural change
  control.reload_fails = true;
  auto r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ReloadFailed");
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.reload"});
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
  EXPECT_TRUE(faults().empty());
  EXPECT_TRUE(working().contains("haproxy.reload") && working().contains("haproxy.master"));
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
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.runtime"});

  control.servers_error = make_error("HaproxyNotRunning", "admin.sock: connect: No such file or directory");
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->haproxy_running);
  EXPECT_EQ(files.installs, 1);
  EXPECT_NE(files.current.find("server i-3 "), std::string::npos);
  // Not running is no failed cycle, but a fault all the same: HAProxy serves nothing.
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.runtime"});
  EXPECT_NE(last.faults[0].message.find("only the configuration file is written"), std::string::npos);
  EXPECT_TRUE(working().contains("haproxy.config_file"));

  control.servers_error = Error{};
  ASSERT_TRUE(run(false).ok());
  EXPECT_TRUE(faults().empty());
  EXPECT_TRUE(working().contains("haproxy.runtime"));
}

// The master socket gone (or not set): no reload can start, but the workers' runtime socket answers, so the
// membership still follows the group through it while the reload waits, pending, for the master to come back.
TEST_F(SyncerTest, AReloadTheMasterSocketCannotTakeIsTheMastersFault) {
  files.tmpl += "    timeout queue 5s\n";
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  control.reload_error = make_error("HaproxyNotRunning", "master.sock: connect: No such file or directory");
  auto r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.master"});
  EXPECT_NE(last.faults[0].remedy.find("-S"), std::string::npos) << last.faults[0].remedy;
  EXPECT_TRUE(state.reload_pending);
  EXPECT_FALSE(r->reloaded);
  ASSERT_EQ(control.applied.size(), 1u) << "the new member went in through the runtime API";
  EXPECT_EQ(control.applied[0].kind, core::OpKind::Add);
  EXPECT_EQ(control.applied[0].server, "i-2");
  EXPECT_EQ(files.installs, 1) << "installed once, for the reload";
  EXPECT_NE(files.current.find("timeout queue 5s"), std::string::npos);
  EXPECT_TRUE(working().contains("haproxy.runtime"));
  EXPECT_FALSE(working().contains("haproxy.master"));

  // Still gone: the reload is tried again each cycle; nothing is applied twice.
  control.applied.clear();
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.master"});
  EXPECT_TRUE(control.applied.empty());
  EXPECT_EQ(control.reloads, 2);

  // Another failed reload (the master answers, the new worker does not start) is no reason to bypass it: the
  // cycle fails and nothing goes through the runtime API.
  control.reload_error = Error{};
  control.reload_fails = true;
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}, {"i-3", "127.0.0.4"}});
  EXPECT_FALSE(run(false).ok());
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.reload"});
  EXPECT_TRUE(control.applied.empty());

  control.reload_fails = false;
  ASSERT_TRUE(run(false).ok());
  EXPECT_TRUE(working().contains("haproxy.master"));
  EXPECT_FALSE(state.reload_pending);
}

// A batch refused halfway (the fake applies op by op, as HAProxy does): what was applied stays applied, the file is
// not replaced, and the next cycle re-plans from what HAProxy runs: it sends only what is still missing.
TEST_F(SyncerTest, ARuntimeApplyFailingHalfwayIsCompletedByTheNextCycle) {
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}, {"i-3", "127.0.0.4"}, {"i-4", "127.0.0.5"}});
  const std::string file_before = files.current;
  control.fail_at_op = 1;
  auto r = run(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "HaproxyCommandFailed");
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.runtime"});
  EXPECT_NE(last.faults[0].message.find("the next cycle re-plans"), std::string::npos) << last.faults[0].message;
  ASSERT_EQ(control.applied.size(), 1u) << "the first add went through before the refusal";
  const std::string first = control.applied[0].server;
  EXPECT_EQ(control.actual[0].servers.size(), 2u);
  EXPECT_EQ(files.installs, 0);
  EXPECT_EQ(files.current, file_before) << "the file is not replaced after a half-applied plan";

  control.applied.clear();
  r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(control.applied.size(), 2u) << "only what is still missing";
  for (const auto& op : control.applied) {
    EXPECT_EQ(op.kind, core::OpKind::Add);
    EXPECT_NE(op.server, first) << "not added twice";
  }
  EXPECT_EQ(files.installs, 1);
  for (const char* id : {"i-1", "i-2", "i-3", "i-4"})
    EXPECT_NE(files.current.find(std::string("server ") + id + " "), std::string::npos) << files.current;
  EXPECT_TRUE(working().contains("haproxy.runtime"));
}

// A full disk or a read-only directory: the render cannot be validated or written, but it is not known to be wrong.
// Membership still follows the group through the Runtime API (a scale-in is drained, not left in rotation until its
// instance dies); the file follows once it can be written.
// The same when the render is to be validated (a syncer just started): staging it fails, membership still follows.
TEST_F(SyncerTest, AnUnwritableConfigFileStillLetsAValidatedChangeThrough) {
  Syncer fresh{test_config(), provider, control, files};
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  files.unwritable = true;
  auto outcome = fresh.run(state, false);
  ASSERT_TRUE(outcome.report.ok()) << outcome.report.error().message;
  EXPECT_EQ(files.stages, 1);
  ASSERT_EQ(outcome.faults.size(), 1u);
  EXPECT_EQ(outcome.faults[0].key, "haproxy.config_file");
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].server, "i-2");
  EXPECT_EQ(files.installs, 0);
  EXPECT_FALSE(outcome.report->config_written);
}

TEST_F(SyncerTest, AnUnwritableConfigFileStillLetsMembershipFollowTheGroup) {
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  files.unwritable = true;
  auto r = run(false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.config_file"});
  EXPECT_NE(last.faults[0].remedy.find("/etc/haproxy/haproxy.cfg"), std::string::npos) << last.faults[0].remedy;
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].server, "i-2");
  EXPECT_EQ(files.installs, 0);
  EXPECT_FALSE(r->config_written);

  // Still unwritable: reported again (the daemon's book logs it once), nothing sent twice.
  control.applied.clear();
  r = run(false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(faults(), std::set<std::string>{"haproxy.config_file"});
  EXPECT_TRUE(control.applied.empty());

  files.unwritable = false;
  r = run(false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(faults().empty());
  EXPECT_TRUE(working().contains("haproxy.config_file"));
  EXPECT_EQ(files.installs, 1);
  EXPECT_NE(files.current.find("server i-2 127.0.0.3:80"), std::string::npos);

  // With HAProxy down, the file is all a cycle can do: it fails (`once` before HAProxy's start must not pass).
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}, {"i-5", "127.0.0.6"}});
  control.servers_error = make_error("HaproxyNotRunning", "admin.sock: connect: No such file or directory");
  files.unwritable = true;
  EXPECT_FALSE(run(false).ok());
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
  // A membership change a syncer just started validates (it trusts no render yet); refused, nothing is sent.
  Syncer fresh{test_config(), provider, control, files};
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  files.invalid = true;
  auto outcome = fresh.run(state, false);
  const auto& r = outcome.report;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidConfig");
  ASSERT_EQ(outcome.faults.size(), 1u);
  EXPECT_EQ(outcome.faults[0].key, "template");
  EXPECT_EQ(files.stages, 1);
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
  files.tmpl += "    timeout server 5s\n";
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
    if (beat_error) return *beat_error;
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
  std::optional<Error> beat_error;  // every heartbeat fails with it
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

  // A failed discovery decides nothing either, but the due heartbeat still goes out: a discovery failing for longer
  // than the hook's heartbeat timeout must not let the group terminate an instance still draining.
  lifecycle.beats.clear();
  provider.fail = true;
  outcome = with_hooks.run(s, false);
  ASSERT_FALSE(outcome.report.ok());
  EXPECT_EQ(lifecycle.beats, std::vector<std::string>{"i-1"});
  EXPECT_TRUE(lifecycle.completed.empty());
  ASSERT_TRUE(outcome.next_due.has_value());
  EXPECT_LE(*outcome.next_due, now + std::chrono::seconds(21));
  EXPECT_GE(outcome.state.hooks.at("app/drain/i-1").last_beat, now);
}

// Auto Scaling does not answer a heartbeat of a failed cycle: the other due ones are not tried now (each would wait
// its timeout too, holding up the loop), only again soon.
TEST_F(SyncerTest, AFailedCycleStopsItsHeartbeatsAtAnUnreachableAutoScaling) {
  FakeLifecycle lifecycle;
  lifecycle.beat_error = make_error("RequestTimeout", "no answer within 3000 ms", true);
  Syncer with_hooks{test_config(), provider, control, files, &lifecycle};
  const auto now = core::Clock::now();
  core::SyncState s;
  for (const char* id : {"i-1", "i-2", "i-3"})
    s.hooks[std::string("app/drain/") + id] = core::HookWait{"app", "drain", "terminating", now - std::chrono::seconds(25),
                                                             now - std::chrono::seconds(25), false};
  provider.fail = true;
  auto outcome = with_hooks.run(s, false);
  ASSERT_FALSE(outcome.report.ok());
  EXPECT_EQ(lifecycle.beats.size(), 1u);
  ASSERT_TRUE(outcome.next_due.has_value());
  EXPECT_LE(*outcome.next_due, core::Clock::now() + std::chrono::seconds(5)) << "all three tried again within seconds";
  EXPECT_GT(*outcome.next_due, now);
  EXPECT_EQ(outcome.state.hooks.at("app/drain/i-1").last_beat, now - std::chrono::seconds(25)) << "not beaten";
}

// The unchanged cycle: once a computed cycle found nothing to do, the next ones with the same inputs skip desire,
// plan, render and apply, and say so; any change of an input, or a timed rule falling due, computes again.
struct SkipTest : SyncerTest {
  // Runs cycles at `now` until one is skipped (the first after a change computes, and may change the state the next
  // one starts from); fails after a few.
  void settle(core::TimePoint now) {
    for (int i = 0; i < 4; ++i) {
      auto outcome = syncer.run(state, false, now);
      ASSERT_TRUE(outcome.report.ok()) << outcome.report.error().message;
      state = outcome.state;
      if (outcome.report->skipped) return;
    }
    FAIL() << "no cycle was skipped with unchanged inputs";
  }
  Result<CycleReport> run_at(core::TimePoint now) {
    auto outcome = syncer.run(state, false, now);
    state = outcome.state;
    return outcome.report;
  }
  core::TimePoint t0 = core::Clock::now();
};

TEST_F(SkipTest, AnUnchangedCycleIsSkippedAndChangesNothing) {
  auto r = run_at(t0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->skipped) << "the first cycle of a syncer has nothing to compare with";
  const int stages = files.stages, installs = files.installs;
  const core::SyncState before = state;
  for (int i = 1; i <= 3; ++i) {
    r = run_at(t0 + std::chrono::seconds(i));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->skipped) << "cycle " << i;
    EXPECT_FALSE(r->changes());
    ASSERT_EQ(r->groups.size(), 1u) << "the report still carries what discovery and HAProxy said";
    EXPECT_EQ(r->actual, control.actual);
  }
  EXPECT_EQ(files.stages, stages);
  EXPECT_EQ(files.installs, installs);
  EXPECT_TRUE(control.applied.empty());
  EXPECT_EQ(control.reloads, 0);
  EXPECT_EQ(state, before);
  EXPECT_TRUE(control.sessions_of.empty()) << "no drain: no backend's sessions are needed";
}

TEST_F(SkipTest, ADryRunIsNeverSkipped) {
  settle(t0);
  auto outcome = syncer.run(state, true, t0 + std::chrono::seconds(1));
  ASSERT_TRUE(outcome.report.ok());
  EXPECT_FALSE(outcome.report->skipped);
  EXPECT_FALSE(outcome.report->rendered.empty()) << "`plan` and `render` show the real thing";
}

TEST_F(SkipTest, ANewMemberIsNotSkipped) {
  settle(t0);
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].kind, core::OpKind::Add);
}

TEST_F(SkipTest, AMemberLeavingServiceIsNotSkipped) {
  settle(t0);
  provider.groups[0].members[0].lifecycle_state = "Terminating";
  provider.groups[0].members[0].served = false;
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].kind, core::OpKind::Drain);
}

TEST_F(SkipTest, AHealthStatusChangeIsNotSkipped) {
  settle(t0);
  provider.groups[0].members[0].health_status = "Unhealthy";  // served all the same: only the input differs
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
}

TEST_F(SkipTest, HaproxysStateChangingIsNotSkipped) {
  settle(t0);
  control.actual[0].servers[0].admin = core::AdminState::Maint;  // someone put it in maintenance
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].kind, core::OpKind::Enable);
}

TEST_F(SkipTest, HaproxyRestartedWithOtherServersIsNotSkipped) {
  settle(t0);
  control.actual[0].servers = {{"i-7", "127.0.0.8", 80, core::AdminState::Ready, true, 0}};
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
  EXPECT_EQ(control.applied.size(), 2u) << "i-1 added, i-7 drained";
}

TEST_F(SkipTest, HaproxyStoppingIsNotSkipped) {
  settle(t0);
  control.servers_error = make_error("HaproxyNotRunning", "admin.sock: connect: No such file or directory");
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
  EXPECT_FALSE(r->haproxy_running);
}

TEST_F(SkipTest, ATemplateEditIsNotSkipped) {
  settle(t0);
  files.tmpl += "    timeout queue 5s\n";
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->skipped);
  EXPECT_TRUE(r->reloaded);
}

TEST_F(SkipTest, TheFileChangedOnDiskIsNotSkipped) {
  settle(t0);
  const std::string good = files.current;
  files.current += "# edited by hand\n";
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->skipped);
  EXPECT_TRUE(r->config_written);
  EXPECT_EQ(files.current, good);
}

TEST_F(SkipTest, ARequestedReloadIsNotSkipped) {
  settle(t0);
  state.reload_requested = "certificates changed";
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->skipped);
  EXPECT_TRUE(r->reloaded);
}

TEST_F(SkipTest, TheClockGoingBackIsNotSkipped) {
  settle(t0);
  auto r = run_at(t0 - std::chrono::seconds(30));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
}

// A drain in progress: unchanged inputs are skipped until the drain's timeout, which removes the server although
// nothing else changed. Its sessions are read each cycle (its backend is in the drain book).
TEST_F(SkipTest, ADrainTimeoutFallingDueIsNotSkipped) {
  control.actual[0].servers.push_back({"i-2", "127.0.0.3", 80, core::AdminState::Drain, true, 3});
  auto r = run_at(t0);  // adopts the drain (since t0)
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(state.drains.contains("app/i-2"));
  settle(t0 + std::chrono::seconds(1));
  EXPECT_EQ(control.sessions_of, std::set<std::string>{"app"});
  r = run_at(t0 + std::chrono::seconds(29));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->skipped) << "1 s before the 30 s drain_timeout";
  r = run_at(t0 + std::chrono::seconds(30));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].kind, core::OpKind::Remove);
}

TEST_F(SkipTest, SessionsEndingOnADrainingServerIsNotSkipped) {
  control.actual[0].servers.push_back({"i-2", "127.0.0.3", 80, core::AdminState::Drain, true, 3});
  settle(t0);
  control.actual[0].servers[1].current_sessions = 0;
  auto r = run_at(t0 + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);
  ASSERT_EQ(control.applied.size(), 1u);
  EXPECT_EQ(control.applied[0].kind, core::OpKind::Remove);
}

// Health feedback: a server DOWN is reported once it has been DOWN for down_for, with nothing else changing.
TEST_F(SkipTest, AHealthFeedbackDeadlineFallingDueIsNotSkipped) {
  auto cfg = test_config();
  cfg.backends[0].health_feedback = true;
  cfg.backends[0].down_for = std::chrono::seconds(30);
  Syncer with_feedback{cfg, provider, control, files};
  control.actual[0].servers[0].up = false;
  control.actual[0].servers[0].check_enabled = true;
  int skipped = 0;
  for (int i = 0; i < 4; ++i) {
    auto outcome = with_feedback.run(state, false, t0 + std::chrono::seconds(i));
    ASSERT_TRUE(outcome.report.ok());
    state = outcome.state;
    skipped += outcome.report->skipped ? 1 : 0;
  }
  EXPECT_GE(skipped, 1);
  ASSERT_TRUE(state.down_since.contains("app/i-1"));
  auto outcome = with_feedback.run(state, false, t0 + std::chrono::seconds(30));
  ASSERT_TRUE(outcome.report.ok());
  EXPECT_FALSE(outcome.report->skipped);
  ASSERT_EQ(outcome.report->plan.ops.size(), 1u);
  EXPECT_EQ(outcome.report->plan.ops[0].kind, core::OpKind::ReportUnhealthy);
}

// A termination hook waiting while its server drains: the heartbeat falls due with nothing else changing.
TEST_F(SkipTest, AHookHeartbeatFallingDueIsNotSkipped) {
  FakeLifecycle lifecycle;
  auto cfg = test_config();
  cfg.backends[0].hook_terminating = "drain";
  Syncer with_hooks{cfg, provider, control, files, &lifecycle};
  provider.set_members({{"i-1", "127.0.0.2"}, {"i-2", "127.0.0.3"}});
  provider.groups[0].members[1].lifecycle_state = "Terminating:Wait";
  provider.groups[0].members[1].served = false;
  control.actual[0].servers.push_back({"i-2", "127.0.0.3", 80, core::AdminState::Drain, true, 5});
  state.drains["app/i-2"] = core::DrainRecord{t0};
  int skipped = 0;
  for (int i = 0; i < 4; ++i) {
    auto outcome = with_hooks.run(state, false, t0 + std::chrono::seconds(i));
    ASSERT_TRUE(outcome.report.ok()) << outcome.report.error().message;
    state = outcome.state;
    skipped += outcome.report->skipped ? 1 : 0;
  }
  EXPECT_GE(skipped, 1);
  const size_t beats = lifecycle.beats.size();
  EXPECT_EQ(beats, 1u) << "the first sight's heartbeat";
  // 60 s heartbeat timeout: the next heartbeat is due 20 s after the first, sent at the real clock just after t0
  // (the drain's 30 s timeout is later).
  auto outcome = with_hooks.run(state, false, t0 + std::chrono::seconds(21));
  ASSERT_TRUE(outcome.report.ok());
  EXPECT_FALSE(outcome.report->skipped);
  EXPECT_EQ(lifecycle.beats.size(), beats + 1);
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

// A cluster group that does not exist (a typo, or deleted) is said when it starts and when it ends, not at every
// cycle: the daemon runs a cycle a second.
TEST(SyncerCluster, AMissingClusterGroupIsSaidOnceAndItsReturnOnce) {
  std::ostringstream log;
  // Restored however the test ends (a failed ASSERT returns early): later tests must not log into `log`.
  struct Restore {
    std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
    ~Restore() { spdlog::set_default_logger(previous); }
  } restore;
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));
  auto cfg = test_config();
  cfg.cluster.group = "lb";
  cfg.cluster.node_id = "i-n1";
  FakeProvider provider;
  FakeControl control;
  FakeFiles files;
  Syncer syncer{cfg, provider, control, files};
  core::SyncState state;
  auto count = [&](const std::string& text) {
    const std::string s = log.str();
    int n = 0;
    for (size_t at = s.find(text); at != std::string::npos; at = s.find(text, at + 1)) ++n;
    return n;
  };
  provider.set_members({{"i-1", "127.0.0.2"}});
  provider.groups.push_back(core::GroupMembers{"lb", false, {}});
  for (int i = 0; i < 3; ++i) {
    auto out = syncer.run(state, false);
    state = out.state;
    ASSERT_TRUE(out.report.ok()) << out.report.error().message;
  }
  EXPECT_EQ(count("cluster group lb was not found"), 1) << log.str();
  provider.groups[1] = core::GroupMembers{"lb", true, {}};
  provider.groups[1].members.push_back({"i-n1", "lb", "InService", "Healthy", "z", "running", "127.0.1.2", "", true, ""});
  for (int i = 0; i < 2; ++i) {
    auto out = syncer.run(state, false);
    state = out.state;
    ASSERT_TRUE(out.report.ok()) << out.report.error().message;
  }
  EXPECT_EQ(count("cluster group lb is found again"), 1) << log.str();
  EXPECT_EQ(count("cluster group lb was not found"), 1) << log.str();
}

}  // namespace
}  // namespace hasg::daemon
