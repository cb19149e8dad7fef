// `haproxy-asg status --watch` as an operator runs it: against the simulator and a real HAProxy, from the YAML
// (plain frames in a pipe, a terminal's screen in a pty) and from a running daemon's /status, with mismatches
// marked, zones, checks, request rates and drain time left; SIGINT and SIGTERM end it cleanly.
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "hook_rig.h"

namespace hasg::test {
namespace {

class StatusWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }
};

// The frames of plain watch output: each starts with its title line.
std::vector<std::string> frames_of(const std::string& out) {
  std::vector<std::string> frames;
  size_t at = 0;
  while ((at = out.find("haproxy-asg status  ", at)) != std::string::npos) {
    size_t next = out.find("haproxy-asg status  ", at + 1);
    frames.push_back(out.substr(at, next == std::string::npos ? std::string::npos : next - at));
    at = next == std::string::npos ? out.size() : next;
  }
  return frames;
}

std::string line_with(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return "";
  size_t start = text.rfind('\n', at);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, text.find('\n', at) - start);
}

// Every server of backend app UP by its health checks, as `status --json` reads it.
bool all_checked_up(SyncRig& rig, size_t n) {
  auto r = rig.cli({"status", "--json"});
  if (r.exit_code != 0) return false;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || j.empty()) return false;
  size_t up = 0;
  for (const auto& s : j[0]["servers"])
    if (s.contains("haproxy") && s["haproxy"].value("status", "") == "UP") ++up;
  return up == n;
}

TEST_F(StatusWatchTest, FromTheConfigShowsZonesChecksAndMarksMismatches) {
  SyncRig rig(91);
  ASSERT_EQ(rig.cli({"once"}).exit_code, 0);
  ASSERT_TRUE(rig.start_haproxy());
  ASSERT_TRUE(wait_until([&] { return all_checked_up(rig, 3); }));
  auto ids = rig.sim().instances("app");
  ASSERT_EQ(ids.size(), 3u);
  // Two disagreements no cycle has fixed yet: one instance Standby in the group (still in rotation), one drained
  // by hand in HAProxy (still InService).
  ASSERT_TRUE(rig.sim().set_lifecycle(ids[0].id, "Standby").ok());
  rig.runtime("set server app/" + ids[1].id + " state drain");

  auto r = rig.cli({"status", "--watch", "--interval", "0.3", "--count", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "not a terminal: no escape sequences";
  auto frames = frames_of(r.out);
  ASSERT_EQ(frames.size(), 3u) << r.out;
  const std::string& last = frames.back();
  EXPECT_NE(last.find("backend app <- group app: 3 in the group (2 served), 3 in HAProxy (2 up), 1 draining, "
                      "2 mismatches"),
            std::string::npos)
      << last;
  for (const auto& i : ids) {
    auto l = line_with(last, i.id);
    EXPECT_NE(l.find(i.zone), std::string::npos) << "zone " << i.zone << " in: " << l;
    EXPECT_NE(l.find("L7OK/200"), std::string::npos) << l;
    EXPECT_NE(l.find(i.address + ":"), std::string::npos) << l;
  }
  auto standby = line_with(last, ids[0].id);
  EXPECT_TRUE(standby.starts_with("! ")) << standby;
  EXPECT_NE(standby.find("Standby"), std::string::npos) << standby;
  EXPECT_NE(standby.find("in rotation in HAProxy while Standby"), std::string::npos) << standby;
  auto drained = line_with(last, ids[1].id);
  EXPECT_TRUE(drained.starts_with("! ")) << drained;
  EXPECT_NE(drained.find("DRAIN"), std::string::npos) << drained;
  EXPECT_NE(drained.find("draining in HAProxy while InService"), std::string::npos) << drained;
  // No state_file: the drain's start is HAProxy's lastchg, its time left an estimate of drain_timeout (2 s).
  EXPECT_TRUE(std::regex_search(drained, std::regex(R"( ~[0-2]s left)"))) << drained;
  auto fine = line_with(last, ids[2].id);
  EXPECT_TRUE(fine.starts_with("  ")) << fine;
  EXPECT_NE(fine.find(" UP "), std::string::npos) << fine;
  EXPECT_NE(fine.find(" InService "), std::string::npos) << fine;
  // The request rate needs two samples: none in the first frame, a number in the next.
  EXPECT_TRUE(std::regex_search(line_with(frames[0], ids[2].id), std::regex(R"(ms +1 +\d+ +- )")))
      << frames[0];
  EXPECT_TRUE(std::regex_search(line_with(frames[1], ids[2].id), std::regex(R"(ms +1 +\d+ +\d+\.\d )")))
      << frames[1];
  EXPECT_EQ(rig.reloads(), 0);
  EXPECT_EQ(rig.haproxy_servers()[ids[0].id], ids[0].address + ":" +
                                                   std::to_string(rig.sim().options().instance_port) + " ready")
      << "status changes nothing";
}

TEST_F(StatusWatchTest, ShowsTheRequestRateUnderTrafficAndStopsCleanlyOnSigint) {
  SyncRig rig(92, 2);
  ASSERT_EQ(rig.cli({"once"}).exit_code, 0);
  ASSERT_TRUE(rig.start_haproxy());
  ASSERT_TRUE(wait_until([&] { return all_checked_up(rig, 2); }));
  const std::string out = rig.dir().file("watch.out");
  Process watch({binary_path("haproxy-asg"), "status", "--watch", "--interval", "0.5", "--config",
                 rig.dir().file("haproxy-asg.yaml")},
                sim_env(rig.sim()), out);
  // Traffic through HAProxy until a frame shows a request rate above zero for some server.
  static const std::regex rate(R"(ms +1 +\d+ +([0-9]+\.[0-9]) )");
  auto busy = [&] {
    std::string text = read_file(out);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), rate); it != std::sregex_iterator(); ++it)
      if (std::stod((*it)[1]) > 0) return true;
    return false;
  };
  bool seen = false;
  for (auto until = std::chrono::steady_clock::now() + 10s; !seen && std::chrono::steady_clock::now() < until;) {
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(rig.request().empty());
    seen = busy();
  }
  EXPECT_TRUE(seen) << read_file(out);
  watch.signal(SIGINT);
  EXPECT_EQ(watch.wait(5s), 0) << "SIGINT ends the watch with exit 0";
}

// Runs `argv` with a pseudo-terminal of 100 columns as stdout; collects what it writes until `done` says so.
struct PtyRun {
  pid_t pid = -1;
  int master = -1;
  std::string out;

  PtyRun(const std::vector<std::string>& argv, const EnvOverrides& env) {
    // Everything the child needs is built before the fork: the test runs threads (the simulator), so the child may
    // only exec.
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      auto eq = kv.find('=');
      if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : env) {
      if (v.empty()) vars.erase(k);
      else vars[k] = v;
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& a : argv_copy) args.push_back(a.data());
    args.push_back(nullptr);
    winsize ws{};
    ws.ws_col = 100;
    ws.ws_row = 40;
    pid = forkpty(&master, nullptr, nullptr, &ws);
    if (pid == 0) {
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    fcntl(master, F_SETFL, O_NONBLOCK);
  }
  ~PtyRun() {
    if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (master >= 0) close(master);
  }
  void drain() {
    char buf[4096];
    for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  bool wait_for(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout) {
    return wait_until([&] { drain(); return done(out); }, timeout);
  }
  int wait_exit(std::chrono::milliseconds timeout) {
    int status = 0;
    bool exited = wait_until([&] { drain(); return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
    drain();
    if (!exited) return -1;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

TEST_F(StatusWatchTest, OnATerminalDrawsHighlightedScreensAndRestoresTheTerminalOnSigterm) {
  SyncRig rig(93, 2);
  ASSERT_EQ(rig.cli({"once"}).exit_code, 0);
  ASSERT_TRUE(rig.start_haproxy());
  auto ids = rig.sim().instances("app");
  ASSERT_TRUE(rig.sim().set_lifecycle(ids[0].id, "Standby").ok());  // a mismatch to highlight
  PtyRun run({binary_path("haproxy-asg"), "status", "--watch", "--interval", "0.3", "--config",
              rig.dir().file("haproxy-asg.yaml")},
             sim_env(rig.sim()));
  // Two screens drawn, the Standby row in red.
  ASSERT_TRUE(run.wait_for([&](const std::string& o) {
    size_t first = o.find("\x1b[H");
    return first != std::string::npos && o.find("\x1b[H", first + 1) != std::string::npos &&
           o.find("\x1b[1;31m! " + ids[0].id) != std::string::npos;
  }, 15s)) << run.out;
  EXPECT_TRUE(run.out.starts_with("\x1b[?1049h\x1b[?25l")) << "the alternate screen, no cursor";
  // Lines are cut at the terminal's 100 columns (the escapes aside).
  std::string plain = std::regex_replace(run.out, std::regex("\x1b\\[[0-9;?]*[A-Za-z]"), "");
  size_t longest = 0;
  std::istringstream in(plain);
  for (std::string l; std::getline(in, l);) longest = std::max(longest, l.size() - (l.ends_with("\r") ? 1 : 0));
  EXPECT_LE(longest, 100u);
  kill(run.pid, SIGTERM);
  EXPECT_EQ(run.wait_exit(5s), 0);
  EXPECT_TRUE(run.out.ends_with("\x1b[?25h\x1b[?1049l")) << "cursor and screen restored";
}

TEST_F(StatusWatchTest, AgainstARunningDaemonShowsItsDrainsWithTimeLeft) {
  HookRigOptions o;
  o.net = 94;
  o.delay_ms = 6000;  // answers take 6 s: a request is in flight on the leaving server while the watch looks
  o.http_checks = false;
  o.terminating = 8s;  // the group shows the instance Terminating meanwhile
  o.drain_timeout = "20s";
  HookRig r(o);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 2; })) << r.log();
  const std::string leaving = r.newest();
  auto answers = r.scale_in_while_busy(leaving);
  ASSERT_FALSE(::testing::Test::HasFailure());

  auto w = run_command({binary_path("haproxy-asg"), "status", "--url", r.url("/status"), "--watch", "--interval",
                        "0.3", "--count", "2"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto frames = frames_of(w.out);
  ASSERT_EQ(frames.size(), 2u) << w.out;
  EXPECT_NE(frames[1].find("daemon " + r.url("/status")), std::string::npos) << frames[1];
  auto l = line_with(frames[1], leaving);
  EXPECT_NE(l.find("DRAIN"), std::string::npos) << l;
  EXPECT_NE(l.find("Terminating"), std::string::npos) << l;
  // The daemon knows when the drain started: its time left is no estimate ("~").
  std::smatch m;
  ASSERT_TRUE(std::regex_search(l, m, std::regex(R"( (\d+)s left)"))) << l;
  EXPECT_GT(std::stoi(m[1]), 10);
  EXPECT_LE(std::stoi(m[1]), 20);
  EXPECT_FALSE(l.starts_with("!")) << "a leaving instance draining is what should happen: " << l;
  for (const auto& i : r.sim().instances("app")) {
    if (i.id == leaving) continue;
    auto other = line_with(frames[1], i.id);
    EXPECT_NE(other.find(i.zone), std::string::npos) << other;
    EXPECT_NE(other.find(" UP "), std::string::npos) << other;
  }

  auto j = run_command({binary_path("haproxy-asg"), "status", "--url", r.url("/status"), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto view = nlohmann::json::parse(j.out);
  bool found = false;
  for (const auto& s : view[0]["servers"]) {
    if (s["server"] != leaving) continue;
    found = true;
    EXPECT_EQ(s["drain"]["estimated"], false) << s.dump();
    EXPECT_GT(s["drain"]["seconds_left"].get<double>(), 10) << s.dump();
    EXPECT_EQ(s["drain"]["timeout_seconds"], 20) << s.dump();
  }
  EXPECT_TRUE(found) << j.out;
  for (auto& f : answers) EXPECT_EQ(f.get().result.exit_code, 0);

  auto gone = run_command({binary_path("haproxy-asg"), "status", "--url", "http://127.0.0.1:1/status"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("haproxy-asg status: GET http://127.0.0.1:1/status"), std::string::npos) << gone.err;
}

}  // namespace
}  // namespace hasg::test
