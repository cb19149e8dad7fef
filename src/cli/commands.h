// One function per subcommand; cli.cc only parses and dispatches to these.
#pragma once

#include <string>
#include <vector>

namespace hasg::cli {

struct DiscoverArgs {
  std::vector<std::string> groups;
  bool json = false;
};
int discover_command(const DiscoverArgs& args);

}  // namespace hasg::cli

namespace hasg::cli {

struct CycleArgs {
  std::string config;
  bool json = false;
};
int once_command(const CycleArgs& args);
int plan_command(const CycleArgs& args);
int render_command(const CycleArgs& args);

}  // namespace hasg::cli

namespace hasg::cli {

int run_command(const CycleArgs& args);

// `status`: from the YAML (discovery and HAProxy read here) or from a running daemon's /status (`url`); once, or
// refreshed every `interval_ms` until SIGINT/SIGTERM (`watch`; at most `count` frames when > 0).
struct StatusArgs {
  std::string config;
  std::string url;
  bool json = false;
  bool watch = false;
  double interval_s = 1.0;
  int count = 0;
};
int status_command(const StatusArgs& args);

}  // namespace hasg::cli

namespace hasg::cli {

// Exit 0 when no check failed (warnings and skips do not fail), 1 otherwise.
struct DoctorArgs {
  std::string config;  // empty: /etc/haproxy-asg/haproxy-asg.yaml when it exists, else none
  bool json = false;
};
int doctor_command(const DoctorArgs& args);

}  // namespace hasg::cli
