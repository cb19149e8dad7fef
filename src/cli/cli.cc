#include "cli/cli.h"

#include <CLI/CLI.hpp>

namespace hasg::cli {

int run(int argc, char** argv) {
  CLI::App app{"haproxy-asg: keeps HAProxy backends equal to EC2 Auto Scaling groups"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace hasg::cli
