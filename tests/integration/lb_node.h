// One load balancer of a cluster for integration tests: its own directory, template, YAML, HAProxy (master-worker)
// and `haproxy-asg once`, against a simulator shared with the other nodes. Loopback only.
#pragma once

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sim_env.h"
#include "support/haproxy_fixture.h"
#include "support/process.h"

namespace hasg::test {

class Node {
 public:
  // `between`: sections after global and before defaults (a peers section); `backend_extra`: lines of backend
  // app after its `balance`; `yaml_extra`: top-level YAML (cluster:).
  Node(sim::Simulator& sim, int instance_port, const std::string& balance = "balance uri\n    hash-type consistent",
       const std::string& yaml_extra = "", const std::string& between = "", const std::string& backend_extra = "")
      : sim_(sim), port_(free_port()) {
    write_file(dir_.file("haproxy.cfg.template"),
               "global\n"
               "    stats socket " + dir_.file("admin.sock") + " mode 600 level admin\n"
               "\n" + between +
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
               "    " + balance + "\n" + backend_extra);
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
                                              "    server_options: weight 10\n" + yaml_extra);
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

}  // namespace hasg::test
