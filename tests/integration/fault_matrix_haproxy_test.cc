// Issue 12's fault matrix, HAProxy, file and process side: each fault injected for real against `haproxy-asg run`,
// a real HAProxy (master-worker) and the simulator. Each test proves: the last good membership keeps serving,
// nothing is removed that should not be, the fault is logged once (an error line "KEY: ..." with what to do),
// /healthz says it (200 "ok, degraded" first, 503 once it outlasts three intervals), and the daemon recovers by
// itself when the fault ends (a change made during the fault is followed, a "KEY: recovered" line, /healthz "ok").
// The keys are README's ("Faults and what haproxy-asg does").
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>

#include "hook_rig.h"
#include "support/loopback_listener.h"

namespace hasg::test {
namespace {

struct Health {
  int code = 0;
  std::string body;
};

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

class FaultMatrixHaproxy : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }

  // The rig (simulator, template, YAML with the endpoint on port 0), HAProxy started from `haproxy-asg once`.
  void start_rig(int net, int desired = 3, const std::string& extra_yaml = "") {
    start_rig(SyncRig::options_for(net), desired, extra_yaml);
  }
  // With slow instances (TCP checks then: an HTTP check would time out) and drain_timeout `drain_timeout`.
  void start_rig(sim::SimOptions opt, int desired, const std::string& extra_yaml,
                 const std::string& drain_timeout = "2s") {
    rig_ = std::make_unique<SyncRig>(opt, desired, "listen: 127.0.0.1:0\n" + extra_yaml);
    if (opt.instance_delay_ms > 0)
      write_file(rig_->dir().file("haproxy.cfg.template"),
                 std::regex_replace(rig_->template_text(), std::regex("    option httpchk GET /\n"), ""));
    write_file(yaml_path(), std::regex_replace(read_file(yaml_path()), std::regex("drain_timeout: 2s"),
                                               "drain_timeout: " + drain_timeout));
    auto r = rig_->cli({"once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(rig_->start_haproxy());
  }

  // `haproxy-asg run`, after `prefix` (e.g. unshare); waits for its port and for it to serve what the group has.
  void start_daemon(const std::vector<std::string>& prefix = {}) {
    std::vector<std::string> argv = prefix;
    for (const auto& a : {binary_path("haproxy-asg"), std::string("run"), std::string("--config"), yaml_path()})
      argv.push_back(a);
    const size_t before = log().size();
    daemon_ = std::make_unique<Process>(argv, sim_env(rig_->sim()), log_path());
    ASSERT_TRUE(wait_until([&] { return (port_ = daemon_port_from_log(log().substr(before))) != 0; })) << log();
    ASSERT_TRUE(wait_until([&] { return converged() && health().code == 200; })) << log();
  }

  std::string yaml_path() const { return rig_->dir().file("haproxy-asg.yaml"); }
  std::string log_path() const { return rig_->dir().file("daemon.log"); }
  std::string log() const { return read_file(log_path()); }

  Health health() const {
    auto r = run_command({"/usr/bin/curl", "-s", "--max-time", "3", "-w", "\n%{http_code}",
                          "http://127.0.0.1:" + std::to_string(port_) + "/healthz"});
    Health h;
    size_t nl = r.out.rfind('\n');
    if (nl == std::string::npos) return h;
    h.body = r.out.substr(0, nl);
    h.code = std::atoi(r.out.c_str() + nl + 1);
    return h;
  }

  bool converged() const {
    return rig_->ready_servers() == rig_->in_service() &&
           rig_->haproxy_servers().size() == rig_->in_service().size();
  }

  // The fault `key` starts: one error line "KEY: ..." holding `says` and the remedy's `remedy` part; /healthz
  // lists it, healthy within the grace (three 1 s intervals), then 503; and still one line after those cycles.
  void expect_fault(const std::string& key, const std::string& says, const std::string& remedy) {
    const std::string line = " error: " + key + ": ";
    ASSERT_TRUE(wait_until([&] { return log().find(line) != std::string::npos; }, std::chrono::seconds(15))) << log();
    std::string l = log().substr(log().find(line));
    l = l.substr(0, l.find("\n20"));  // the entry (a haproxy -c message spans lines)
    if (!says.empty()) {
      EXPECT_NE(l.find(says), std::string::npos) << l;
    }
    EXPECT_NE(l.find(remedy), std::string::npos) << "the line says what to do: " << l;
    // Degraded but healthy first (unless this machine took the whole grace to get here), then unhealthy.
    Health h = health();
    if (h.code == 200) {
      EXPECT_NE(h.body.find("ok, degraded:\n" + key + ": failing for"), std::string::npos) << h.body;
    }
    ASSERT_TRUE(wait_until([&] { return (h = health()).code == 503; }, std::chrono::seconds(15))) << h.body;
    EXPECT_NE(h.body.find(key + ": failing for"), std::string::npos) << h.body;
    EXPECT_EQ(count_of(log(), line), 1u) << "logged once, not at every cycle:\n" << log();
  }

  // The fault is over: one "KEY: recovered" line, /healthz "ok", and still the one error line.
  void expect_recovered(const std::string& key, std::chrono::seconds within = std::chrono::seconds(30)) {
    ASSERT_TRUE(wait_until([&] { return log().find(" " + key + ": recovered after ") != std::string::npos; }, within))
        << log();
    ASSERT_TRUE(wait_until([&] { return health().code == 200 && health().body == "ok\n"; })) << health().body;
    EXPECT_EQ(count_of(log(), " " + key + ": recovered after "), 1u);
    EXPECT_EQ(count_of(log(), " error: " + key + ": "), 1u) << log();
  }

  // HAProxy is gone (killed, its master exited): the fault is logged once, the file keeps every server and follows
  // a scale-out made meanwhile; HAProxy started again (as systemd's Restart= does) serves it, and the daemon
  // recovers. (The first failure says what the cycle met: a refused connection, or an answer cut by the kill.)
  void outage_then_restart(const std::set<std::string>& before) {
    expect_fault("haproxy.runtime", "", "start HAProxy");
    EXPECT_EQ(rig_->file_server_names(), before) << "nothing removed from the file while HAProxy is down";
    EXPECT_EQ(log().find(" drain app/"), std::string::npos) << log();
    ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
    ASSERT_TRUE(wait_until([&] { return rig_->file_server_names() == rig_->in_service() &&
                                        rig_->in_service().size() == 4; }))
        << "the file follows the group while HAProxy is down\n" << log();
    ASSERT_TRUE(rig_->start_haproxy());
    ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 4; })) << log();
    for (const auto& id : before) EXPECT_TRUE(rig_->ready_servers().contains(id)) << id;
    expect_recovered("haproxy.runtime");
    EXPECT_FALSE(rig_->request().empty()) << "HAProxy serves again";
  }

  // Makes `dir` read-only for the daemon and back: as root (whom a mode does not stop) through a read-only bind
  // mount in the daemon's own mount namespace (the daemon runs under `unshare -m`); as a user, by its mode.
  std::vector<std::string> read_only_prefix() const {
    if (geteuid() != 0) return {};
    return {"/usr/bin/unshare", "-m", "--propagation", "private", "--"};
  }
  void set_read_only(const std::string& dir, bool ro) {
    if (geteuid() != 0) {
      ASSERT_EQ(::chmod(dir.c_str(), ro ? 0555 : 0755), 0);
      return;
    }
    const std::string pid = std::to_string(daemon_->pid());
    auto r = ro ? run_command({"/usr/bin/nsenter", "-t", pid, "-m", "/usr/bin/mount", "--bind", "-o", "ro", dir, dir})
                : run_command({"/usr/bin/nsenter", "-t", pid, "-m", "/usr/bin/umount", dir});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static std::string unwritable() { return geteuid() == 0 ? "Read-only file system" : "Permission denied"; }
  bool can_make_read_only() const {
    if (geteuid() != 0) return true;
    return run_command({"/usr/bin/unshare", "-m", "--propagation", "private", "/usr/bin/true"}).exit_code == 0;
  }

  int port_ = 0;
  std::unique_ptr<SyncRig> rig_;
  std::unique_ptr<Process> daemon_;
};

TEST_F(FaultMatrixHaproxy, HaproxyKilledMasterAndWorkers) {
  start_rig(231);
  start_daemon();
  const auto before = rig_->ready_servers();
  ASSERT_EQ(before.size(), 3u);
  ASSERT_TRUE(rig_->kill_haproxy(SIGKILL));  // kill -9 of the whole process group, whatever the cycle is doing
  outage_then_restart(before);
}

TEST_F(FaultMatrixHaproxy, HaproxyWorkerKilledTakesItsMasterWithIt) {
  start_rig(232);
  start_daemon();
  const auto before = rig_->ready_servers();
  std::smatch m;
  const std::string procs = rig_->master("show proc");
  ASSERT_TRUE(std::regex_search(procs, m, std::regex(R"((\d+)\s+worker)"))) << procs;
  ASSERT_EQ(::kill(std::stoi(m[1]), SIGKILL), 0);
  // HAProxy 2.6's master stops everything when a worker dies (exit-on-failure): the stale sockets stay behind.
  ASSERT_TRUE(wait_until([&] { return !rig_->haproxy_alive(); })) << "the master exits after its worker";
  EXPECT_TRUE(std::filesystem::exists(rig_->dir().file("admin.sock")));
  outage_then_restart(before);
}

TEST_F(FaultMatrixHaproxy, HaproxyRestartedWithAnOldConfigIsRepairedFromItsOwnState) {
  start_rig(233);
  start_daemon();
  const std::string old_file = read_file(rig_->config_file());
  const auto old_servers = rig_->ready_servers();
  ASSERT_TRUE(rig_->sim().set_desired("app", 5).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->in_service().size() == 5; })) << log();
  ASSERT_TRUE(wait_until([&] { return rig_->file_server_names().size() == 5; }))  // written after the runtime commands
      << log();

  // An operator restarts HAProxy from a copy of the file from before the scale-out: it runs 3 of the 5. (A copy:
  // the daemon would rewrite haproxy.cfg itself while HAProxy is down.)
  write_file(rig_->dir().file("old.cfg"), old_file);
  ASSERT_TRUE(rig_->kill_haproxy(SIGTERM));
  const size_t mark = log().size();
  ASSERT_TRUE(rig_->start_haproxy(rig_->dir().file("old.cfg")));
  // The daemon reads HAProxy's servers again rather than trusting what it did before: the two missing are added
  // through the runtime API (no reload), the three it runs are left alone, and the file is rewritten.
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 5; })) << log();
  ASSERT_TRUE(wait_until([&] { return rig_->file_server_names() == rig_->in_service(); })) << log();
  const std::string after = log().substr(mark);
  EXPECT_EQ(count_of(after, " add app/"), 2u) << after;
  EXPECT_EQ(after.find(" drain app/"), std::string::npos) << after;
  EXPECT_EQ(after.find(" remove app/"), std::string::npos) << after;
  for (const auto& id : old_servers) EXPECT_TRUE(rig_->ready_servers().contains(id)) << id;
  EXPECT_EQ(rig_->reloads(), 0);
  EXPECT_EQ(health().body, "ok\n");
}

// Servers of backend app as the worker has them, asked through the master CLI (the runtime socket is gone).
std::set<std::string> servers_via_master(const SyncRig& rig) {
  std::set<std::string> out;
  std::istringstream in(rig.master("@1 show servers state app"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::vector<std::string> col;
    std::string c;
    while (f >> c) col.push_back(c);
    if (col.size() >= 19 && col[0] != "#") out.insert(col[3]);
  }
  return out;
}

TEST_F(FaultMatrixHaproxy, RuntimeSocketRemovedKeepsServingUntilHaproxyIsRestarted) {
  start_rig(234);
  start_daemon();
  const auto before = rig_->ready_servers();
  ASSERT_TRUE(std::filesystem::remove(rig_->dir().file("admin.sock")));
  expect_fault("haproxy.runtime", "HAProxy does not answer on its runtime socket", "restore its `stats socket");
  // HAProxy still runs and serves its servers; nothing could be (or was) removed.
  EXPECT_EQ(servers_via_master(*rig_), before);
  EXPECT_TRUE(before.contains(rig_->request()));
  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  ASSERT_TRUE(wait_until([&] { return rig_->file_server_names().size() == 4; })) << log();
  EXPECT_EQ(servers_via_master(*rig_), before) << "the daemon never sees HAProxy meanwhile";

  // A reload does not bring it back: the new worker takes the old one's listening socket over (expose-fd
  // listeners), the unlinked one. A restart does, with the file's membership.
  ASSERT_EQ(rig_->master("reload"), "");
  ASSERT_TRUE(wait_until([&] { return rig_->reloads() == 1; }));
  EXPECT_FALSE(std::filesystem::exists(rig_->dir().file("admin.sock")));
  ASSERT_TRUE(rig_->kill_haproxy(SIGTERM));
  ASSERT_TRUE(rig_->start_haproxy());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 4; })) << log();
  expect_recovered("haproxy.runtime");
}

TEST_F(FaultMatrixHaproxy, MasterReloadFailingKeepsTheOldWorkersAndIsRetried) {
  start_rig(235);
  start_daemon();
  const auto before = rig_->ready_servers();
  // A new frontend on a port something else holds: `haproxy -c` accepts it (it binds nothing), the reload fails
  // (the new worker cannot bind) and the master keeps the old workers.
  auto holder = std::make_unique<LoopbackListener>();
  const std::string tmpl = rig_->dir().file("haproxy.cfg.template");
  const std::string good = read_file(tmpl);
  write_file(tmpl, good + "\nfrontend extra\n    bind 127.0.0.1:" + std::to_string(holder->port()) +
                       "\n    default_backend app\n");
  expect_fault("haproxy.reload", "HAProxy reload failed", "see HAProxy's log");
  EXPECT_EQ(rig_->ready_servers(), before) << "the old workers keep the membership";
  // (Each retried reload pauses the old worker's listeners for a moment: a request may need a second try.)
  EXPECT_TRUE(wait_until([&] { return before.contains(rig_->request()); }, std::chrono::seconds(5)));
  EXPECT_EQ(count_of(rig_->master("show proc"), "[failed: 0]"), 0u) << "the master counted the failed reload";

  // The port is free again: a retry (by the daemon itself) reloads, and the new frontend serves.
  holder.reset();
  expect_recovered("haproxy.reload", std::chrono::seconds(60));
  EXPECT_EQ(rig_->ready_servers(), before);
  EXPECT_NE(rig_->master("show proc").find("master"), std::string::npos);
  EXPECT_NE(read_file(rig_->config_file()).find("frontend extra"), std::string::npos);
}

// The master socket file removed while HAProxy runs, then a template change that needs a reload (a new backend):
// no reload can be had. Said once; the workers run on with the old configuration, and the membership still follows
// the group through the runtime API; once the socket is back, the pending reload happens by itself.
TEST_F(FaultMatrixHaproxy, MasterSocketGoneMembershipStillFollowsAndTheReloadWaits) {
  start_rig(196);
  start_daemon();
  // The socket keeps another name (the master listens on the inode, not the name), then the daemon's is removed.
  const std::string sock = rig_->dir().file("master.sock");
  const std::string kept = rig_->dir().file("master.kept");
  ASSERT_EQ(::link(sock.c_str(), kept.c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::unlink(sock.c_str()), 0) << std::strerror(errno);
  auto reloads = [&] {
    std::smatch m;
    const std::string out = HaproxyFixture::unix_request(kept, "show proc\n");
    return std::regex_search(out, m, std::regex(R"(\d+\s+master\s+(\d+)\s+\[failed: (\d+)\])")) ? std::stoi(m[1])
                                                                                                : -1;
  };
  ASSERT_EQ(reloads(), 0);
  const std::string tmpl = rig_->dir().file("haproxy.cfg.template");
  write_file(tmpl, read_file(tmpl) + "\nbackend extra\n    balance roundrobin\n");
  expect_fault("haproxy.master", "cannot reload HAProxy: ", "(haproxy.master_socket)");
  EXPECT_NE(read_file(rig_->config_file()).find("backend extra"), std::string::npos) << "the file is the new one";
  EXPECT_EQ(rig_->runtime("show backend").find("extra"), std::string::npos) << "HAProxy runs the old one";

  // The group changes meanwhile: HAProxy follows through the runtime API, a scale-out added, a scale-in drained.
  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 4; })) << log();
  ASSERT_TRUE(rig_->sim().set_desired("app", 3).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 3; })) << log();
  EXPECT_EQ(count_of(log(), " drain app/"), 1u) << log();
  EXPECT_TRUE(rig_->in_service().contains(rig_->request())) << "the old configuration serves";
  EXPECT_EQ(reloads(), 0);
  EXPECT_EQ(count_of(log(), " error: haproxy.master: "), 1u) << log();
  EXPECT_EQ(count_of(log(), " error: "), 1u) << "no other fault: " << log();

  EXPECT_EQ(count_of(log(), "reloading HAProxy: "), 1u) << "the retries are not said at every cycle: " << log();

  // The socket's name is back: the pending reload goes through by itself, and HAProxy runs the new configuration.
  // (The master binds its socket afresh when it reloads: from then on, only the name reaches it.)
  ASSERT_EQ(::link(kept.c_str(), sock.c_str()), 0) << std::strerror(errno);
  expect_recovered("haproxy.master");
  EXPECT_EQ(rig_->reloads(), 1);
  EXPECT_EQ(count_of(log(), "reloaded HAProxy: a previous reload did not complete"), 1u) << log();
  EXPECT_NE(rig_->runtime("show backend").find("extra"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 3; })) << log();
  EXPECT_TRUE(rig_->in_service().contains(rig_->request()));
}

TEST_F(FaultMatrixHaproxy, InvalidTemplateKeepsTheLastGoodConfigAndNamesTheLine) {
  start_rig(236);
  start_daemon();
  const auto before = rig_->ready_servers();
  const std::string file_before = read_file(rig_->config_file());
  const std::string tmpl = rig_->dir().file("haproxy.cfg.template");
  const std::string good = read_file(tmpl);
  // Line 9 of the template: the defaults section's last line, misspelt.
  std::string bad = std::regex_replace(good, std::regex("    timeout server 10s\n"), "    timeout sever 10s\n");
  ASSERT_NE(bad, good);
  write_file(tmpl, bad);
  expect_fault("template", "haproxy.cfg.template:9)", "fix " + tmpl);
  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  ASSERT_TRUE(wait_until([&] { return rig_->in_service().size() == 4; }));
  EXPECT_EQ(read_file(rig_->config_file()), file_before) << "the last good file stays";
  EXPECT_EQ(rig_->ready_servers(), before) << "nothing applied from a render that fails haproxy -c";
  EXPECT_EQ(rig_->reloads(), 0);

  write_file(tmpl, good);
  expect_recovered("template", std::chrono::seconds(60));
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 4; })) << log();
  EXPECT_EQ(rig_->reloads(), 0) << "the template is back as HAProxy runs it: no reload";
}

TEST_F(FaultMatrixHaproxy, ConfigFileUnwritableStillFollowsTheGroupThroughTheRuntimeApi) {
  if (!can_make_read_only()) GTEST_SKIP() << "root without mount namespaces: cannot make a directory read-only";
  // haproxy.cfg is a link into conf/, the directory made read-only (HAProxy and `once` follow the link).
  start_rig(237);
  const std::string conf = rig_->dir().file("conf");
  ASSERT_TRUE(std::filesystem::create_directory(conf));
  std::filesystem::rename(rig_->config_file(), conf + "/haproxy.cfg");
  std::filesystem::create_symlink(conf + "/haproxy.cfg", rig_->config_file());
  start_daemon(read_only_prefix());
  const auto before = rig_->ready_servers();
  const std::string file_before = read_file(rig_->config_file());
  set_read_only(conf, true);
  if (HasFatalFailure()) return;

  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  expect_fault("haproxy.config_file", unwritable(), "let haproxy-asg write " + rig_->config_file());
  // The membership still follows the group; the file keeps its last good content.
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 4; })) << log();
  for (const auto& id : before) EXPECT_TRUE(rig_->ready_servers().contains(id)) << id;
  EXPECT_EQ(read_file(rig_->config_file()), file_before);

  set_read_only(conf, false);
  expect_recovered("haproxy.config_file");
  ASSERT_TRUE(wait_until([&] { return rig_->file_server_names() == rig_->in_service(); })) << log();
  EXPECT_EQ(rig_->reloads(), 0);
}

// A drain held open by a real session (answers take 30 s) while the state file cannot be written: the fault lasts
// as long as the drain does; the daemon keeps the drain in memory, and saves it once the directory is writable.
TEST_F(FaultMatrixHaproxy, StateFileUnwritableKeepsDrainsInMemoryAndSavesThemLater) {
  if (!can_make_read_only()) GTEST_SKIP() << "root without mount namespaces: cannot make a directory read-only";
  sim::SimOptions opt = SyncRig::options_for(238);
  opt.instance_delay_ms = 30000;
  opt.terminating = std::chrono::seconds(60);  // the leaving instance keeps answering: only the drain ends
  start_rig(opt, 2, "state_file: state/state.json\n", "30s");
  const std::string dir = rig_->dir().file("state");
  ASSERT_TRUE(std::filesystem::create_directory(dir));
  start_daemon(read_only_prefix());
  set_read_only(dir, true);
  if (HasFatalFailure()) return;

  std::string leaving;
  for (const auto& i : rig_->sim().instances("app"))
    if (i.id > leaving) leaving = i.id;
  std::vector<std::future<CommandResult>> requests;
  for (int i = 0; i < 4; ++i)
    requests.push_back(std::async(std::launch::async, [url = rig_->frontend_url()] {
      return run_command({"/usr/bin/curl", "-s", "--max-time", "40", url});
    }));
  // HAProxy's current sessions on the leaving server.
  auto sessions = [&] { return rig_->sessions("app", leaving); };
  ASSERT_TRUE(wait_until([&] { return sessions() >= 1; })) << "a request is open on " << leaving;
  ASSERT_TRUE(rig_->sim().set_desired("app", 1).ok());
  ASSERT_TRUE(wait_until([&] { return rig_->haproxy_servers()[leaving].ends_with(" drain"); })) << log();
  expect_fault("state_file", unwritable(), "a restart of haproxy-asg forgets them");
  EXPECT_TRUE(rig_->haproxy_servers()[leaving].ends_with(" drain")) << "still draining: a session is open";
  EXPECT_GE(sessions(), 1);

  set_read_only(dir, false);
  expect_recovered("state_file");
  auto j = nlohmann::json::parse(read_file(dir + "/state.json"), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << read_file(dir + "/state.json");
  EXPECT_TRUE(j["drains"].contains("app/" + leaving)) << j.dump();
  daemon_.reset();  // the requests' 30 s are not this test's business
  rig_.reset();
}

TEST_F(FaultMatrixHaproxy, SighupWithABadYamlKeepsTheOldConfigurationUntilAGoodOne) {
  start_rig(239);
  start_daemon();
  const std::string good = read_file(yaml_path());
  write_file(yaml_path(), good + "max_remove_share: lots\n");
  daemon_->signal(SIGHUP);
  expect_fault("config", "haproxy-asg.yaml:", "send SIGHUP again");
  std::string l = log().substr(log().find(" error: config: "));
  EXPECT_NE(l.substr(0, l.find('\n')).find("max_remove_share"), std::string::npos) << "names the key: " << l;
  // The old configuration keeps working.
  ASSERT_TRUE(rig_->sim().set_desired("app", 4).ok());
  ASSERT_TRUE(wait_until([&] { return converged() && rig_->ready_servers().size() == 4; })) << log();
  EXPECT_TRUE(daemon_->alive());

  write_file(yaml_path(), good);
  daemon_->signal(SIGHUP);
  expect_recovered("config");
}

// Issue 12, item 2: a drain that outlives a restart of the daemon. The state file keeps its start, so the drain
// goes on (the server is not put back in rotation, nor given a fresh timeout) and ends at drain_timeout counted
// from its first start, with a real session still open on it.
TEST_F(FaultMatrixHaproxy, RestartMidDrainKeepsTheDrainsStartFromTheStateFile) {
  HookRigOptions o;
  o.net = 240;
  o.delay_ms = 9000;  // a request still open when drain_timeout ends the drain
  o.http_checks = false;
  o.drain_timeout = "5s";
  o.terminating = 20s;  // the leaving instance keeps answering: only the drain timeout ends its session
  o.top_yaml = "state_file: state.json\n";
  HookRig r(o);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 2; })) << r.log();
  const std::string leaving = r.newest();
  auto answers = r.scale_in_while_busy(leaving);
  ASSERT_FALSE(HasFailure());
  const auto drain_seen = SteadyClock::now();
  const std::string state_path = r.rig().dir().file("state.json");
  long long since = 0;
  ASSERT_TRUE(wait_until([&] {
    auto j = nlohmann::json::parse(read_file(state_path), nullptr, false);
    if (j.is_discarded() || !j["drains"].contains("app/" + leaving)) return false;
    since = j["drains"]["app/" + leaving].get<long long>();
    return true;
  })) << read_file(state_path);

  r.daemon().signal(SIGTERM);
  ASSERT_EQ(r.daemon().wait(), 0);
  EXPECT_TRUE(r.rig().haproxy_servers()[leaving].ends_with(" drain"));
  ASSERT_GE(r.stat(leaving).scur, 1) << "the session is still open";
  ASSERT_TRUE(wait_until([&] { return SteadyClock::now() - drain_seen >= 2s; }));  // down for a while
  r.start_daemon();
  const auto restarted = SteadyClock::now();
  auto j = nlohmann::json::parse(read_file(state_path), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["drains"]["app/" + leaving], since) << "the restart kept the drain's start";
  EXPECT_TRUE(r.rig().haproxy_servers()[leaving].ends_with(" drain")) << "not put back in rotation";

  // Removed at drain_timeout from the first start (about 3 s after the restart, not 5), its session still open.
  ASSERT_TRUE(wait_until([&] { return !r.rig().haproxy_servers().contains(leaving); }, 10s)) << r.log();
  const double after_restart_ms = ms_between(restarted, SteadyClock::now());
  const double after_drain_ms = ms_between(drain_seen, SteadyClock::now());
  EXPECT_LT(after_restart_ms, 4500) << "a fresh timeout would have waited 5 s after the restart";
  EXPECT_GE(after_drain_ms, 4000) << "not before drain_timeout";
  EXPECT_LT(after_drain_ms, 7500);
  EXPECT_NE(r.log().find("remove app/" + leaving), std::string::npos) << r.log();
  for (auto& f : answers) f.wait();  // the timeout cut the ones on the leaving server: that is its job
}

// Issue 12, item 2: SIGHUP changing the `haproxy:` section: a new template path takes effect (one validated reload,
// the file from the new template, the membership unchanged).
TEST_F(FaultMatrixHaproxy, SighupChangingTheHaproxySectionTakesEffect) {
  start_rig(241);
  start_daemon();
  const auto before = rig_->ready_servers();
  write_file(rig_->dir().file("other.template"), rig_->template_text("    timeout queue 7s\n"));
  std::string yaml = read_file(yaml_path());
  yaml = std::regex_replace(yaml, std::regex("template: haproxy.cfg.template"), "template: other.template");
  write_file(yaml_path(), yaml);
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return rig_->reloads() == 1; })) << log();
  EXPECT_NE(read_file(rig_->config_file()).find("timeout queue 7s"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return converged(); })) << log();
  EXPECT_EQ(rig_->ready_servers(), before);
  EXPECT_EQ(health().body, "ok\n");
}

}  // namespace
}  // namespace hasg::test
