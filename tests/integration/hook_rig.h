// The rig for lifecycle-hook and event tests: SyncRig (simulator, template, YAML, real HAProxy) plus
// `haproxy-asg run` as a process with its /metrics, HAProxy's per-server stats, slow client requests through the
// frontend, and a signed AWS client (awscli's calls, without awscli's start-up time) to act as another party.
#pragma once

#include <signal.h>

#include <chrono>
#include <future>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "sync_rig.h"
#include "unit/sim/sim_client.h"

namespace hasg::test {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

struct HookRigOptions {
  int net = 0;            // instance_net: 127.<net>.x.y, distinct per test
  int desired = 2;
  int delay_ms = 0;       // every instance answers this slowly
  std::chrono::milliseconds terminating{0};
  std::chrono::milliseconds hook_second{1000};
  bool http_checks = true;  // false: TCP checks (slow instances would fail HTTP checks)
  std::string interval = "1s";
  std::string drain_timeout = "2s";
  std::string backend_yaml;  // keys of the backend (indented by four spaces)
  std::string top_yaml;      // top-level keys
};

// A client request through HAProxy and when its answer ended.
struct ClientAnswer {
  CommandResult result;
  SteadyClock::time_point ended;
};

struct ServerStat {
  bool found = false;
  int scur = 0;
  long stot = 0;
  std::string status;  // "UP", "DOWN", "DRAIN", "MAINT", ...
};

class HookRig {
 public:
  // With `shared`, a second load balancer (its own HAProxy, YAML and daemon) in front of the group of another rig's
  // simulator; the simulator options of `o` are then that simulator's.
  explicit HookRig(const HookRigOptions& o, sim::Simulator* shared = nullptr) : options_(o) {
    sim::SimOptions so;
    so.instance_net = o.net;
    so.instance_delay_ms = o.delay_ms;
    so.terminating = o.terminating;
    so.hook_second = o.hook_second;
    // Port 0: the daemon's start line says which port it got (no free port to race for under ctest -j).
    rig_ = std::make_unique<SyncRig>(so, o.desired, o.backend_yaml + o.top_yaml + "listen: 127.0.0.1:0\n", shared);
    std::string yaml = read_file(yaml_path());
    yaml = std::regex_replace(yaml, std::regex("interval: 1s"), "interval: " + o.interval);
    yaml = std::regex_replace(yaml, std::regex("drain_timeout: 2s"), "drain_timeout: " + o.drain_timeout);
    write_file(yaml_path(), yaml);
    if (!o.http_checks) {
      std::string t = rig_->template_text();
      t = std::regex_replace(t, std::regex("    option httpchk GET /\n"), "");
      write_file(rig_->dir().file("haproxy.cfg.template"), t);
    }
  }

  // The first configuration (haproxy-asg once), then HAProxy from it.
  void start_haproxy() {
    auto r = rig_->cli({"once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(rig_->start_haproxy());
  }

  // A template whose failed connections (a refused connect, a reused idle connection reset) are retried on another
  // server, as in production templates (DESIGN.md's facts): only requests already in flight on a dying server can
  // fail.
  void retry_elsewhere(const std::string& more_defaults = "") {
    write_file(rig_->dir().file("haproxy.cfg.template"),
               rig_->template_text("    retries 3\n    option redispatch 1\n"
                                   "    retry-on conn-failure empty-response response-timeout\n" +
                                   more_defaults));
  }

  void start_daemon() {
    daemon_ = std::make_unique<Process>(
        std::vector<std::string>{binary_path("haproxy-asg"), "run", "--config", yaml_path()}, sim_env(sim()),
        log_path());
    // A restart gets another port: the last start line says it.
    const size_t before = log().size();
    ASSERT_TRUE(wait_until([&] { return (listen_port_ = daemon_port_from_log(log().substr(before))) != 0; }))
        << log();
    ASSERT_TRUE(wait_until([&] { return http("/healthz").exit_code == 0; })) << log();
  }

  void put_hook(const std::string& name, const std::string& transition, int heartbeat_timeout = 3600,
                const std::string& notification_target_arn = "") {
    sim::LifecycleHookSpec h;
    h.group = "app";
    h.name = name;
    h.transition = transition;
    h.heartbeat_timeout = heartbeat_timeout;
    h.default_result = "ABANDON";  // a timeout shows as ABANDON / "timeout", never as our CONTINUE
    h.notification_target_arn = notification_target_arn;
    ASSERT_TRUE(sim().put_lifecycle_hook(h).ok());
  }

  // Every server HAProxy has in sync with the group's InService instances, all ready.
  bool converged() const {
    return rig_->ready_servers() == rig_->in_service() && rig_->haproxy_servers().size() == rig_->in_service().size();
  }

  // The newest member (the simulator terminates newest first): ids end with a growing sequence number.
  std::string newest() {
    std::string out;
    for (const auto& i : sim().instances("app"))
      if (i.id > out) out = i.id;
    return out;
  }

  std::optional<sim::LifecycleActionTimes> action(const std::string& instance) const {
    return rig_->lifecycle_action(instance);
  }
  bool completed(const std::string& instance) const { return rig_->hook_completed(instance); }
  int timeouts() const {
    int n = 0;
    for (const auto& a : rig_->sim().lifecycle_actions())
      if (a.completed_by == "timeout") ++n;
    return n;
  }

  // HAProxy's `show stat` row of server `name` in backend app.
  ServerStat stat(const std::string& name) const {
    ServerStat s;
    std::istringstream in(rig_->runtime("show stat app 4 -1"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> col;
      std::string c;
      std::istringstream f(line);
      while (std::getline(f, c, ',')) col.push_back(c);
      if (col.size() < 18 || col[1] != name) continue;
      s.found = true;
      s.scur = std::stoi(col[4]);
      s.stot = std::stol(col[7]);
      s.status = col[17];
    }
    return s;
  }

  // A client request through HAProxy on a thread of its own.
  std::future<ClientAnswer> request_async(int max_seconds = 15) const {
    std::string url = rig_->frontend_url();
    return std::async(std::launch::async, [url, max_seconds] {
      auto r = run_command({"/usr/bin/curl", "-s", "-S", "-f", "--max-time", std::to_string(max_seconds), url});
      return ClientAnswer{std::move(r), SteadyClock::now()};
    });
  }

  // Scales the group from two members to one while requests are in flight on the one leaving (`leaving`, the
  // newest): four requests (round robin puts two on each server), the scale-in, then HAProxy draining it. Returns
  // the requests' answers; a step that did not happen is a test failure and ends the list early.
  std::vector<std::future<ClientAnswer>> scale_in_while_busy(const std::string& leaving) {
    std::vector<std::future<ClientAnswer>> answers;
    for (int i = 0; i < 4; ++i) answers.push_back(request_async());
    bool ok = wait_until([&] { return stat(leaving).scur >= 1; }, 3s);
    EXPECT_TRUE(ok) << "a request is open on " << leaving;
    ok = ok && sim().set_desired("app", 1).ok();
    ok = ok && wait_until([&] { return rig_->haproxy_servers()[leaving].ends_with(" drain"); }, 3s);
    EXPECT_TRUE(ok) << "HAProxy drains " << leaving << "\n" << log();
    return answers;
  }

  // A metric from /metrics summed over the series carrying every given label (-1 when none does).
  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    std::istringstream in(http("/metrics").out);
    std::string line;
    double sum = 0;
    bool any = false;
    while (std::getline(in, line)) {
      if (!line.starts_with(name) || line.size() <= name.size()) continue;
      char next = line[name.size()];
      if (next != ' ' && next != '{') continue;
      bool all = true;
      for (const auto& [k, v] : labels) all = all && line.find(k + "=\"" + v + "\"") != std::string::npos;
      if (!all) continue;
      any = true;
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return any ? sum : -1;
  }

  CommandResult http(const std::string& path) const {
    return run_command({"/usr/bin/curl", "-s", "-f", "--max-time", "3", url(path)});
  }
  // The daemon's endpoint: "http://127.0.0.1:PORT" + path.
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(listen_port_) + path; }

  // An Auto Scaling call as another party would make it (an operator, another balancer).
  aws::HttpResponse autoscaling(const std::string& action,
                                const std::vector<std::pair<std::string, std::string>>& params) {
    return client().query("autoscaling", action, params);
  }
  // An EC2 call as another party would make it (another balancer of the cluster writing its drain record).
  aws::HttpResponse ec2(const std::string& action, const std::vector<std::pair<std::string, std::string>>& params) {
    return client().query("ec2", action, params, "2016-11-15");
  }
  aws::HttpResponse send_message(const std::string& queue_url, const std::string& body) {
    return client().sqs("SendMessage", {{"QueueUrl", queue_url}, {"MessageBody", body}});
  }

  sim::Simulator& sim() { return rig_->sim(); }
  const sim::Simulator& sim() const { return rig_->sim(); }
  SyncRig& rig() { return *rig_; }
  Process& daemon() { return *daemon_; }
  std::string yaml_path() const { return rig_->dir().file("haproxy-asg.yaml"); }
  std::string log_path() const { return rig_->dir().file("daemon.log"); }
  std::string log() const { return read_file(log_path()); }

 private:
  sim::test::SimClient& client() {
    if (!client_) client_ = std::make_unique<sim::test::SimClient>(sim());
    return *client_;
  }

  HookRigOptions options_;
  int listen_port_ = 0;
  std::unique_ptr<SyncRig> rig_;
  std::unique_ptr<Process> daemon_;
  std::unique_ptr<sim::test::SimClient> client_;
};

inline double ms_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace hasg::test
