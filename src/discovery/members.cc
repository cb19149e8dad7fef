#include "discovery/members.h"

#include <algorithm>

#include "core/aws_values.h"

namespace hasg::discovery {

std::vector<core::GroupMembers> assemble_members(const std::vector<std::string>& wanted,
                                                 const std::vector<aws::AutoScalingGroup>& groups,
                                                 const InstanceLookup& instance) {
  std::vector<core::GroupMembers> out;
  for (const auto& name : wanted) {
    core::GroupMembers gm;
    gm.group = name;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.name == name; });
    if (g != groups.end()) {
      gm.found = true;
      // Sorted by id before the members are built: sorting the members themselves moves ten strings a swap.
      std::vector<const aws::AsgInstance*> sorted;
      sorted.reserve(g->instances.size());
      for (const auto& ai : g->instances) sorted.push_back(&ai);
      std::sort(sorted.begin(), sorted.end(),
                [](const auto* a, const auto* b) { return a->instance_id < b->instance_id; });
      gm.members.reserve(sorted.size());
      for (const aws::AsgInstance* p : sorted) {
        const aws::AsgInstance& ai = *p;
        // An id is the server's name in haproxy.cfg and in runtime commands: one that is not EC2's cannot be
        // written, so the member is left out (the rest of the group is served).
        if (!core::is_instance_id(ai.instance_id)) {
          gm.refused.push_back({ai.instance_id, "InstanceId", ai.instance_id,
                                "not an instance id (i- and 8 or 17 hex digits)"});
          continue;
        }
        core::Member m;
        m.instance_id = ai.instance_id;
        m.group = name;
        m.lifecycle_state = ai.lifecycle_state;
        m.health_status = ai.health_status;
        m.availability_zone = ai.availability_zone;
        const aws::Ec2Instance* ec2 = instance(ai.instance_id);
        std::string refused_address;
        if (ec2 != nullptr) {
          m.instance_state = ec2->state;
          m.private_ipv4 = ec2->private_ipv4;
          m.ipv6 = ec2->ipv6;
          // An address is the server's address word: one that does not parse is dropped, never written.
          if (!m.private_ipv4.empty() && !core::is_ipv4_address(m.private_ipv4)) {
            gm.refused.push_back({m.instance_id, "PrivateIpAddress", m.private_ipv4, "not an IPv4 address"});
            refused_address = "PrivateIpAddress";
            m.private_ipv4.clear();
          }
          if (!m.ipv6.empty() && !core::is_ipv6_address(m.ipv6)) {
            gm.refused.push_back({m.instance_id, "Ipv6Address", m.ipv6, "not an IPv6 address"});
            refused_address = refused_address.empty() ? "Ipv6Address" : refused_address + " and Ipv6Address";
            m.ipv6.clear();
          }
        }
        core::classify(m, ec2 != nullptr);
        if (!m.served && !refused_address.empty() && m.not_served_reason == "no private address")
          m.not_served_reason = "refused " + refused_address + " (not an IP address)";
        gm.members.push_back(std::move(m));
      }
    }
    out.push_back(std::move(gm));
  }
  return out;
}

}  // namespace hasg::discovery
