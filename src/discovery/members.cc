#include "discovery/members.h"

#include <algorithm>

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
        core::Member m;
        m.instance_id = ai.instance_id;
        m.group = name;
        m.lifecycle_state = ai.lifecycle_state;
        m.health_status = ai.health_status;
        m.availability_zone = ai.availability_zone;
        const aws::Ec2Instance* ec2 = instance(ai.instance_id);
        if (ec2 != nullptr) {
          m.instance_state = ec2->state;
          m.private_ipv4 = ec2->private_ipv4;
          m.ipv6 = ec2->ipv6;
        }
        core::classify(m, ec2 != nullptr);
        gm.members.push_back(std::move(m));
      }
    }
    out.push_back(std::move(gm));
  }
  return out;
}

}  // namespace hasg::discovery
