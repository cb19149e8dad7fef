#include "daemon/desire.h"

#include <algorithm>

namespace hasg::daemon {

std::vector<core::DesiredBackend> desire(const config::Config& cfg, const std::vector<core::GroupMembers>& groups) {
  std::vector<core::DesiredBackend> out;
  for (const auto& b : cfg.backends) {
    core::DesiredBackend d;
    d.backend = b.backend;
    d.group = b.group;
    d.server_options = b.server_options;
    d.drain_timeout = b.drain_timeout;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.group == b.group; });
    if (g == groups.end() || !g->found) {
      d.discovery_complete = false;
    } else {
      for (const auto& m : g->members) {
        if (m.lifecycle_state == "InService" && m.instance_state.empty()) d.discovery_complete = false;
        if (!m.served) continue;
        const std::string& addr = b.address_family == "ipv6" ? m.ipv6 : m.private_ipv4;
        if (addr.empty()) continue;
        d.servers.push_back(core::DesiredServer{m.instance_id, addr, b.port});
      }
      std::sort(d.servers.begin(), d.servers.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace hasg::daemon
