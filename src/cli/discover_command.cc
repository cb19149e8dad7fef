#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "cli/commands.h"
#include "discovery/aws_discovery.h"

namespace hasg::cli {

namespace {

nlohmann::json to_json(const core::GroupMembers& g) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : g.members) {
    members.push_back({{"instance_id", m.instance_id},
                       {"private_ipv4", m.private_ipv4},
                       {"ipv6", m.ipv6},
                       {"availability_zone", m.availability_zone},
                       {"lifecycle_state", m.lifecycle_state},
                       {"health_status", m.health_status},
                       {"instance_state", m.instance_state},
                       {"served", m.served},
                       {"not_served_reason", m.not_served_reason}});
  }
  return {{"group", g.group}, {"found", g.found}, {"members", members}};
}

void print_table(const core::GroupMembers& g) {
  size_t served = 0;
  for (const auto& m : g.members) served += m.served ? 1 : 0;
  fmt::print("group {}: {} instance{}, {} served\n", g.group, g.members.size(), g.members.size() == 1 ? "" : "s",
             served);
  if (g.members.empty()) return;
  fmt::print("{:<21} {:<15} {:<12} {:<20} {:<10} {}\n", "INSTANCE", "ADDRESS", "ZONE", "LIFECYCLE", "HEALTH",
             "SERVED");
  for (const auto& m : g.members) {
    std::string address = !m.private_ipv4.empty() ? m.private_ipv4 : (!m.ipv6.empty() ? m.ipv6 : "-");
    std::string served_col = m.served ? "yes" : "no: " + m.not_served_reason;
    fmt::print("{:<21} {:<15} {:<12} {:<20} {:<10} {}\n", m.instance_id, address, m.availability_zone,
               m.lifecycle_state, m.health_status, served_col);
  }
}

}  // namespace

int discover_command(const DiscoverArgs& args) {
  auto ctx = discovery::AwsDiscovery::from_environment(std::make_unique<aws::ProcessEnvironment>());
  if (!ctx) {
    std::cerr << "haproxy-asg discover: " << ctx.error().message << "\n";
    return 1;
  }
  auto groups = (*ctx)->provider().discover(args.groups);
  if (!groups) {
    std::cerr << "haproxy-asg discover: " << groups.error().message << "\n";
    return 1;
  }
  int rc = 0;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : *groups) {
    if (!g.found) {
      std::cerr << "haproxy-asg discover: Auto Scaling group '" << g.group << "' not found in region "
                << (*ctx)->region() << "\n";
      rc = 1;
      continue;
    }
    if (args.json)
      out.push_back(to_json(g));
    else
      print_table(g);
  }
  if (args.json && rc == 0) std::cout << (out.size() == 1 ? out[0] : out).dump(2) << "\n";
  return rc;
}

}  // namespace hasg::cli
