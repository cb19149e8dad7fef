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
