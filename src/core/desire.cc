#include "core/desire.h"

#include <algorithm>

#include "core/server_id.h"

namespace hasg::core {

std::vector<DesiredBackend> desire(const std::vector<BackendSpec>& backends, const std::vector<GroupMembers>& groups) {
  std::vector<DesiredBackend> out;
  for (const auto& b : backends) {
    DesiredBackend d;
    d.backend = b.backend;
    d.group = b.group;
    d.port = b.port;
    d.server_options = b.server_options;
    d.drain_timeout = b.drain_timeout;
    d.hook_terminating = b.hook_terminating;
    d.hook_launching = b.hook_launching;
    d.launch_timeout = b.launch_timeout;
    d.health_feedback = b.health_feedback;
    d.down_for = b.down_for;
    d.feedback_max_share = b.feedback_max_share;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.group == b.group; });
    if (g == groups.end() || !g->found) {
      d.discovery_complete = false;
    } else {
      for (const auto& m : g->members) {
        if (missing_description(m)) d.discovery_complete = false;
        if (m.lifecycle_state != "InService") d.lifecycle.emplace(m.instance_id, m.lifecycle_state);
        if (m.lifecycle_state == "InService") ++d.in_service;
        if (b.health_feedback && (m.health_status == "Unhealthy" || m.lifecycle_state != "InService"))
          d.unhealthy_or_leaving.insert(m.instance_id);
        const std::string& addr = b.address_family == "ipv6" ? m.ipv6 : m.private_ipv4;
        if (addr.empty()) continue;
        if (m.served) {
          d.servers.push_back(DesiredServer{m.instance_id, addr, b.port});
        } else if (!b.hook_launching.empty() && m.lifecycle_state == "Pending:Wait" && m.instance_state == "running") {
          d.launching.push_back(DesiredServer{m.instance_id, addr, b.port});
        }
      }
      std::sort(d.servers.begin(), d.servers.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
      // Ids as a HAProxy starting from this file gives them (the planner gives ids to servers added at runtime).
      std::vector<std::string> names;
      for (const auto& s : d.servers) names.push_back(s.name);
      for (const auto& s : d.launching) names.push_back(s.name);
      auto ids = assign_server_ids(std::move(names), {});
      for (auto& s : d.servers) s.id = ids[s.name];
      for (auto& s : d.launching) s.id = ids[s.name];
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<DesiredServer> cluster_peers(const std::vector<GroupMembers>& groups, const std::string& group,
                                         const std::string& self) {
  std::vector<DesiredServer> out;
  auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.group == group; });
  if (g == groups.end() || !g->found) return out;
  for (const auto& m : g->members)
    if (!m.private_ipv4.empty() && (m.lifecycle_state == "InService" || m.instance_id == self))
      out.push_back(DesiredServer{m.instance_id, m.private_ipv4, 0});
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  return out;
}

}  // namespace hasg::core
