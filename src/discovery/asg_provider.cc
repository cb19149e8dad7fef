#include "discovery/asg_provider.h"

#include <set>

#include "aws/autoscaling.h"
#include "discovery/members.h"

namespace hasg::discovery {

Result<std::vector<core::GroupMembers>> AsgProvider::discover(const std::vector<std::string>& groups) {
  auto found = aws::describe_auto_scaling_groups(asg_, groups);
  if (!found) return found.error();

  std::lock_guard lock(mu_);
  std::vector<std::string> unknown;
  std::set<std::string> present;
  for (const auto& g : *found) {
    for (const auto& i : g.instances) {
      present.insert(i.instance_id);
      // Only members that could be served need an address; a Pending one is asked about once it is InService.
      if (i.lifecycle_state == "InService" && !cache_.contains(i.instance_id)) unknown.push_back(i.instance_id);
    }
  }
  std::map<std::string, aws::Ec2Instance> seen;
  if (!unknown.empty()) {
    auto described = aws::describe_instances(ec2_, unknown);
    if (!described) return described.error();
    for (auto& inst : *described) {
      // Cache running instances only: one that is still pending (or stopped) is asked about again next cycle.
      if (inst.state == "running") cache_[inst.instance_id] = inst;
      seen[inst.instance_id] = std::move(inst);
    }
  }
  // Forget instances that left every group.
  std::erase_if(cache_, [&](const auto& kv) { return !present.contains(kv.first); });
  for (const auto& [id, inst] : cache_) seen.emplace(id, inst);
  return assemble_members(groups, *found, seen);
}

size_t AsgProvider::cached_addresses() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

}  // namespace hasg::discovery
