// haproxy-asg-sim: the AWS simulator as a program, for the demo and for trying real AWS clients against it.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "sim/simulator.h"
#include "util/strings.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  hasg::sim::SimOptions opt;
  std::vector<std::string> groups;
  std::string port_file;
  std::string pending = "0", terminating = "0";
  CLI::App app{"haproxy-asg-sim: a loopback AWS simulator (Auto Scaling, EC2, IMDSv2) with real instance servers"};
  app.add_option("--port", opt.port, "API port on 127.0.0.1 (0: any free port)");
  app.add_option("--port-file", port_file, "write the bound port to this file once listening");
  app.add_option("--region", opt.region, "region the simulator claims")->capture_default_str();
  app.add_option("--access-key-id", opt.access_key_id, "the accepted access key id")->capture_default_str();
  app.add_option("--secret-access-key", opt.secret_access_key, "its secret")->capture_default_str();
  app.add_option("--instance-port", opt.instance_port, "port of every instance's HTTP server (0: no servers)");
  app.add_option("--instance-net", opt.instance_net, "instances get addresses 127.N.x.y")->check(CLI::Range(0, 255));
  app.add_option("--instance-delay-ms", opt.instance_delay_ms, "every instance answers this slowly");
  app.add_flag("--instance-stream", opt.instance_stream,
               "with --instance-delay-ms: headers and the first body byte at once, the rest after the delay");
  app.add_option("--instance-delay-jitter-ms", opt.instance_delay_jitter_ms,
                 "each answer's delay: --instance-delay-ms +- up to this (uniform)");
  app.add_option("--pending", pending, "time an instance stays Pending, e.g. 2s")->capture_default_str();
  app.add_option("--terminating", terminating, "time an instance stays Terminating before it dies, e.g. 3s")
      ->capture_default_str();
  app.add_option("--group", groups, "create a group: NAME=DESIRED (repeatable)");
  CLI11_PARSE(app, argc, argv);

  auto p = hasg::parse_duration_ms(pending), t = hasg::parse_duration_ms(terminating);
  if (p < 0 || t < 0) {
    std::fprintf(stderr, "haproxy-asg-sim: --pending and --terminating take durations like 500ms or 3s\n");
    return 1;
  }
  opt.pending = std::chrono::milliseconds(p);
  opt.terminating = std::chrono::milliseconds(t);

  hasg::sim::Simulator sim(opt);
  if (auto st = sim.start(); !st) {
    std::fprintf(stderr, "haproxy-asg-sim: %s\n", st.error().message.c_str());
    return 1;
  }
  for (const auto& g : groups) {
    auto eq = g.find('=');
    int desired = 0;
    try {
      desired = eq == std::string::npos ? 0 : std::stoi(g.substr(eq + 1));
    } catch (...) {
      std::fprintf(stderr, "haproxy-asg-sim: --group %s: expected NAME=DESIRED\n", g.c_str());
      return 1;
    }
    if (auto st = sim.create_group(g.substr(0, eq), desired); !st) {
      std::fprintf(stderr, "haproxy-asg-sim: --group %s: %s\n", g.c_str(), st.error().message.c_str());
      return 1;
    }
  }
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << sim.port() << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  std::printf("haproxy-asg-sim listening on %s (region %s, key %s)\n", sim.url().c_str(), opt.region.c_str(),
              opt.access_key_id.c_str());
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  sim.stop();
  return 0;
}
