#include "daemon/status_view.h"

#include <map>

namespace hasg::daemon {

nlohmann::json status_view(const config::Config& cfg, const CycleReport& report) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : cfg.backends) {
    std::map<std::string, nlohmann::json> rows;
    for (const auto& g : report.groups) {
      if (g.group != b.group) continue;
      for (const auto& m : g.members)
        rows[m.instance_id]["group"] = {{"lifecycle", m.lifecycle_state},
                                        {"served", m.served},
                                        {"address", m.private_ipv4.empty() ? m.ipv6 : m.private_ipv4},
                                        {"reason", m.not_served_reason}};
    }
    // Instances waiting on a lifecycle hook haproxy-asg owns, and for how long.
    const auto now = core::Clock::now();
    for (const auto& [key, h] : report.hooks) {
      if (h.group != b.group) continue;
      const std::string instance = key.substr(key.rfind('/') + 1);
      rows[instance]["group"]["hook"] = {
          {"name", h.hook},
          {"transition", h.transition},
          {"waiting_seconds", std::chrono::duration<double>(now - h.since).count()},
          {"completed", h.completed}};
    }
    for (const auto& a : report.actual) {
      if (a.backend != b.backend) continue;
      for (const auto& s : a.servers)
        rows[s.name]["haproxy"] = {{"address", core::endpoint(s.address, s.port)},
                                   {"admin", core::to_string(s.admin)},
                                   {"up", s.up},
                                   {"sessions", s.current_sessions}};
    }
    nlohmann::json servers = nlohmann::json::array();
    for (auto& [name, row] : rows) {
      row["server"] = name;
      servers.push_back(std::move(row));
    }
    out.push_back({{"backend", b.backend},
                   {"group", b.group},
                   {"haproxy_running", report.haproxy_running},
                   {"servers", std::move(servers)}});
  }
  return out;
}

}  // namespace hasg::daemon
