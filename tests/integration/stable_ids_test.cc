// The same view from every load balancer (issue 10, item 3), with two real HAProxy 2.6 processes, haproxy-asg and
// the simulator: node A starts with the whole group, node B sees it grow (its first server from the file, the
// others added at runtime, in another order). With `balance uri` and `hash-type consistent`, both give every
// instance the same server id and send each URI to the same instance.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/server_id.h"
#include "sim_env.h"
#include "support/haproxy_fixture.h"
#include "support/process.h"

namespace hasg::test {
namespace {

// One load balancer: its own directory, template, YAML, HAProxy (master-worker) and `haproxy-asg once`.
class Node {
 public:
  Node(sim::Simulator& sim, int instance_port) : sim_(sim), port_(free_port()) {
    write_file(dir_.file("haproxy.cfg.template"),
               "global\n"
               "    stats socket " + dir_.file("admin.sock") + " mode 600 level admin\n"
               "\n"
               "defaults\n"
               "    mode http\n"
               "    timeout connect 2s\n"
               "    timeout client 10s\n"
               "    timeout server 10s\n"
               "\n"
               "frontend web\n"
               "    bind 127.0.0.1:" + std::to_string(port_) + "\n"
               "    default_backend app\n"
               "\n"
               "backend app\n"
               "    balance uri\n"
               "    hash-type consistent\n");
    write_file(dir_.file("haproxy-asg.yaml"), "interval: 1s\n"
                                              "haproxy:\n"
                                              "  template: haproxy.cfg.template\n"
                                              "  config: haproxy.cfg\n"
                                              "  runtime_socket: admin.sock\n"
                                              "  master_socket: master.sock\n"
                                              "backends:\n"
                                              "  - backend: app\n"
                                              "    group: app\n"
                                              "    port: " + std::to_string(instance_port) + "\n"
                                              "    server_options: weight 10\n");
  }

  // One cycle (`haproxy-asg once`): writes the file while HAProxy is down, applies through the runtime API once up.
  CommandResult once() {
    return run_command({binary_path("haproxy-asg"), "once", "--config", dir_.file("haproxy-asg.yaml")}, sim_env(sim_));
  }

  bool start_haproxy() {
    haproxy_ = std::make_unique<Process>(std::vector<std::string>{HaproxyFixture::kHaproxy, "-W", "-S",
                                                                  dir_.file("master.sock"), "-f",
                                                                  dir_.file("haproxy.cfg")},
                                         EnvOverrides{}, dir_.file("haproxy.log"));
    return wait_until([&] { return runtime("show info").find("Name: HAProxy") != std::string::npos; });
  }

  std::string runtime(const std::string& cmd) const {
    return HaproxyFixture::unix_request(dir_.file("admin.sock"), cmd + "\n");
  }

  // Server name -> srv_id, for the servers in rotation (admin state 0), from "show servers state app".
  std::map<std::string, int> ids() const {
    std::map<std::string, int> out;
    std::istringstream in(runtime("show servers state app"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line == "1") continue;
      std::istringstream f(line);
      std::vector<std::string> col;
      for (std::string c; f >> c;) col.push_back(c);
      if (col.size() >= 7 && col[6] == "0") out[col[3]] = std::stoi(col[2]);
    }
    return out;
  }

  // The instance that answered a request for `path` ("" on failure).
  std::string answer(const std::string& path) const {
    auto r = run_command({"/usr/bin/curl", "-s", "--max-time", "5",
                          "http://127.0.0.1:" + std::to_string(port_) + path});
    std::string out = r.out;
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return r.exit_code == 0 ? out : "";
  }

  std::string file() const { return read_file(dir_.file("haproxy.cfg")); }
  std::string log() const { return read_file(dir_.file("haproxy.log")); }

 private:
  sim::Simulator& sim_;
  TempDir dir_;
  int port_;
  std::unique_ptr<Process> haproxy_;
};

TEST(StableIds, TwoBalancersGiveEachInstanceTheSameIdAndEachUriTheSameInstance) {
  if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  sim::SimOptions opt;
  opt.instance_net = 151;
  opt.instance_port = free_port();
  sim::Simulator sim(opt);
  ASSERT_TRUE(sim.start().ok());
  ASSERT_TRUE(sim.create_group("app", 4).ok());
  std::vector<std::string> all;
  ASSERT_TRUE(wait_until([&] {
    all.clear();
    for (const auto& i : sim.instances("app"))
      if (i.lifecycle == "InService") all.push_back(i.id);
    return all.size() == 4;
  }));
  std::sort(all.begin(), all.end());

  // Node B first sees only the newest instance (the others in Standby): its file holds that one alone, so without
  // stable ids it would be server 1 there, and the others 2, 3, 4 as they come back.
  Node b(sim, opt.instance_port);
  for (size_t k = 0; k + 1 < all.size(); ++k) ASSERT_TRUE(sim.set_lifecycle(all[k], "Standby").ok());
  auto r = b.once();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(b.start_haproxy()) << b.log();
  ASSERT_EQ(b.ids().size(), 1u) << b.runtime("show servers state app");
  for (size_t k = 0; k + 1 < all.size(); ++k) ASSERT_TRUE(sim.set_lifecycle(all[k], "InService").ok());
  r = b.once();  // adds the three at runtime: "add server app/ID ADDR:PORT id N weight 10"
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Node A starts with the whole group, from its file.
  Node a(sim, opt.instance_port);
  r = a.once();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(a.start_haproxy()) << a.log();

  // The same ids on both: each instance's stable id, whichever way it got into HAProxy.
  ASSERT_TRUE(wait_until([&] { return a.ids().size() == 4 && b.ids().size() == 4; }))
      << a.runtime("show servers state app") << b.runtime("show servers state app");
  EXPECT_EQ(a.ids(), b.ids());
  auto ids = core::assign_server_ids(all, {});
  for (const auto& [name, id] : a.ids()) {
    EXPECT_EQ(id, ids.at(name)) << name;
    EXPECT_TRUE(core::is_stable_server_id(id)) << name << " " << id;
    EXPECT_NE(a.file().find("server " + name + " "), std::string::npos);
  }
  EXPECT_NE(b.file().find(" id " + std::to_string(ids.at(all[0])) + " weight 10"), std::string::npos) << b.file();

  // Every URI lands on the same instance from both balancers, and the keys spread over the group.
  std::set<std::string> used;
  for (int k = 0; k < 48; ++k) {
    const std::string path = "/key/" + std::to_string(k);
    const std::string from_a = a.answer(path);
    ASSERT_FALSE(from_a.empty()) << path;
    EXPECT_EQ(from_a, b.answer(path)) << path;
    used.insert(from_a);
  }
  EXPECT_GE(used.size(), 3u) << "48 keys over 4 instances of weight 10";
}

}  // namespace
}  // namespace hasg::test
