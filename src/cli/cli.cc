#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace hasg::cli {

int run(int argc, char** argv) {
  CLI::App app{"haproxy-asg: keeps HAProxy backends equal to EC2 Auto Scaling groups"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "haproxy-asg 0.1.0");

  DiscoverArgs discover;
  auto* d = app.add_subcommand("discover", "list a group's members as the daemon sees them");
  d->add_option("--group", discover.groups, "Auto Scaling group name (repeatable)")->required();
  d->add_flag("--json", discover.json, "machine-readable output");

  CLI11_PARSE(app, argc, argv);
  if (d->parsed()) return discover_command(discover);
  return 2;
}

}  // namespace hasg::cli
