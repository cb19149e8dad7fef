// The full rig for sync tests: the AWS simulator with real instance servers, a template and YAML config in a temp
// dir, haproxy-asg run as a user runs it, and a real HAProxy (master-worker) started from the file haproxy-asg
// rendered. Loopback only.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim_env.h"
#include "support/haproxy_fixture.h"
#include "support/process.h"

namespace hasg::test {

// The port `haproxy-asg run` serves /metrics on, from the last start line in its log ("metrics on
// http://127.0.0.1:PORT/metrics"): the daemons of the tests listen on port 0; 0 when not started yet.
inline int daemon_port_from_log(const std::string& log) {
  static const std::regex re(R"(metrics on http://[^ ]*:(\d+)/metrics)");
  int port = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
    port = std::stoi((*it)[1]);
  return port;
}

class SyncRig {
 public:
  explicit SyncRig(int instance_net, int desired = 3, const std::string& extra_yaml = "")
      : SyncRig(options_for(instance_net), desired, extra_yaml) {}

  // With simulator options of the test's choosing (slow instances, hook seconds, termination delay); an
  // instance_port of 0 gets a free port. With `shared`, another rig's simulator (already serving group "app") is
  // used instead, and `opt` and `desired` are not: a second load balancer in front of the same group.
  SyncRig(sim::SimOptions opt, int desired, const std::string& extra_yaml, sim::Simulator* shared = nullptr) {
    if (shared != nullptr) {
      sim_ = shared;
      opt = shared->options();
    } else {
      if (opt.instance_port == 0) opt.instance_port = free_port();
      owned_sim_ = std::make_unique<sim::Simulator>(opt);
      sim_ = owned_sim_.get();
      EXPECT_TRUE(sim_->start().ok());
      EXPECT_TRUE(sim_->create_group("app", desired).ok());
    }
    // HAProxy's frontend listens on an address of this test's own (127.<instance_net>.255.N: the simulator hands
    // out .255.x only after 63,750 launches, and each rig of a process gets its own N): no other test binds there,
    // so its port cannot be taken between free_port() and HAProxy's bind (HAProxy takes no port 0). The instances
    // too listen on this test's own addresses.
    frontend_host_ = "127." + std::to_string(opt.instance_net) + ".255." + std::to_string(1 + next_frontend() % 250);
    frontend_port_ = free_port();
    write_file(tmp_.file("haproxy.cfg.template"), template_text());
    write_file(tmp_.file("haproxy-asg.yaml"), "interval: 1s\n"
                                              "haproxy:\n"
                                              "  template: haproxy.cfg.template\n"
                                              "  config: haproxy.cfg\n"
                                              "  runtime_socket: admin.sock\n"
                                              "  master_socket: master.sock\n"
                                              "backends:\n"
                                              "  - backend: app\n"
                                              "    group: app\n"
                                              "    port: " +
                                                  std::to_string(opt.instance_port) +
                                                  "\n"
                                                  "    server_options: check inter 500ms\n"
                                                  "    drain_timeout: 2s\n" +
                                                  extra_yaml);
  }

  std::string template_text(const std::string& extra_defaults = "") const {
    return "global\n"
           "    stats socket " + tmp_.file("admin.sock") + " mode 600 level admin expose-fd listeners\n"
           "    log stderr format short local0 notice\n"
           "\n"
           "defaults\n"
           "    mode http\n"
           "    timeout connect 2s\n"
           "    timeout client 10s\n"
           "    timeout server 10s\n" + extra_defaults +
           "\n"
           "frontend web\n"
           "    bind " + frontend_host_ + ":" + std::to_string(frontend_port_) + "\n"
           "    default_backend app\n"
           "\n"
           "# the managed backend: haproxy-asg writes its servers\n"
           "backend app\n"
           "    balance roundrobin\n"
           "    option httpchk GET /\n";
  }

  CommandResult cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {binary_path("haproxy-asg")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--config");
    argv.push_back(tmp_.file("haproxy-asg.yaml"));
    return run_command(argv, sim_env(*sim_));
  }

  // From the rendered file, or from `config` (e.g. an old copy of it).
  bool start_haproxy(const std::string& config = "") {
    haproxy_ = std::make_unique<Process>(
        std::vector<std::string>{HaproxyFixture::kHaproxy, "-W", "-S", tmp_.file("master.sock"), "-f",
                                 config.empty() ? tmp_.file("haproxy.cfg") : config},
        EnvOverrides{}, tmp_.file("haproxy.log"));
    return wait_until([&] { return master("show proc").find("master") != std::string::npos &&
                                   runtime("show info").find("Name: HAProxy") != std::string::npos; });
  }

  // Sends `sig` to HAProxy's master and every worker (its process group), and waits until the master is gone.
  bool kill_haproxy(int sig = SIGKILL) {
    if (!haproxy_) return true;
    ::kill(-haproxy_->pid(), sig);
    return wait_until([&] { return !haproxy_->alive(); });
  }
  bool haproxy_alive() const { return haproxy_ && haproxy_->alive(); }

  std::string runtime(const std::string& cmd) const {
    return HaproxyFixture::unix_request(tmp_.file("admin.sock"), cmd + "\n");
  }
  std::string master(const std::string& cmd) const {
    return HaproxyFixture::unix_request(tmp_.file("master.sock"), cmd + "\n");
  }
  // HAProxy's current sessions on `server` of `backend`; -1 when not there.
  int sessions(const std::string& backend, const std::string& server) const {
    return HaproxyFixture::sessions_in(runtime("show stat " + backend + " 4 -1"), server);
  }
  int reloads() const {
    std::smatch m;
    std::string out = master("show proc");
    static const std::regex re(R"(\d+\s+master\s+(\d+)\s+\[failed: (\d+)\])");
    return std::regex_search(out, m, re) ? std::stoi(m[1]) : -1;
  }

  // Servers HAProxy has in backend app, name -> "address:port admin" (admin: ready, drain, maint).
  std::map<std::string, std::string> haproxy_servers() const {
    std::map<std::string, std::string> out;
    std::istringstream in(runtime("show servers state app"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line == "1") continue;
      std::istringstream f(line);
      std::vector<std::string> col;
      std::string c;
      while (f >> c) col.push_back(c);
      if (col.size() < 19) continue;
      int admin = std::stoi(col[6]);
      std::string state = (admin & 0x25) ? "maint" : (admin & 0x18) ? "drain" : "ready";
      out[col[3]] = col[4] + ":" + col[18] + " " + state;
    }
    return out;
  }
  std::set<std::string> ready_servers() const {
    std::set<std::string> out;
    for (const auto& [name, v] : haproxy_servers())
      if (v.ends_with(" ready")) out.insert(name);
    return out;
  }

  // Server lines of the rendered file: name -> "address:port".
  std::map<std::string, std::string> file_servers() const {
    std::map<std::string, std::string> out;
    std::istringstream in(read_file(tmp_.file("haproxy.cfg")));
    std::string line;
    static const std::regex re(R"(^\s+server\s+(i-[0-9a-f]+)\s+(\S+))");
    std::smatch m;
    while (std::getline(in, line))
      if (std::regex_search(line, m, re)) out[m[1]] = m[2];
    return out;
  }
  std::set<std::string> file_server_names() const {
    std::set<std::string> out;
    for (const auto& [k, v] : file_servers()) out.insert(k);
    return out;
  }

  std::set<std::string> in_service() const {
    std::set<std::string> out;
    for (const auto& i : sim_->instances("app"))
      if (i.lifecycle == "InService") out.insert(i.id);
    return out;
  }

  // Sends a request through HAProxy; returns the instance id that answered ("" on failure).
  std::string request() const {
    auto r = run_command({"/usr/bin/curl", "-s", "--max-time", "5", frontend_url()});
    std::string out = r.out;
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return r.exit_code == 0 ? out : "";
  }

  static sim::SimOptions options_for(int instance_net) {
    sim::SimOptions opt;
    opt.instance_net = instance_net;
    return opt;
  }

  std::string frontend_url() const { return "http://" + frontend_host_ + ":" + std::to_string(frontend_port_) + "/"; }
  // An address only this rig listens on (its frontend's), for more listeners of the test's own.
  const std::string& own_host() const { return frontend_host_; }
  sim::Simulator& sim() { return *sim_; }
  // The last lifecycle action of `instance` in the simulator, and whether it was completed.
  std::optional<sim::LifecycleActionTimes> lifecycle_action(const std::string& instance) const {
    auto v = sim_->lifecycle_actions(instance);
    if (v.empty()) return std::nullopt;
    return v.back();
  }
  bool hook_completed(const std::string& instance) const {
    auto a = lifecycle_action(instance);
    return a && a->completed.has_value();
  }
  const TempDir& dir() const { return tmp_; }
  std::string config_file() const { return tmp_.file("haproxy.cfg"); }

 private:
  TempDir tmp_;
  std::unique_ptr<sim::Simulator> owned_sim_;
  sim::Simulator* sim_ = nullptr;
  static int next_frontend() {
    static std::atomic<int> n{0};
    return n++;
  }

  std::string frontend_host_;
  int frontend_port_ = 0;
  std::unique_ptr<Process> haproxy_;
};

}  // namespace hasg::test
