// The pure part of discovery: Auto Scaling's view plus EC2's view of the instances give the members, each marked
// served or not, with the reason.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "core/types.h"

namespace hasg::discovery {

// What EC2 said (or the cache remembers) about an instance id; null when nothing is known.
using InstanceLookup = std::function<const aws::Ec2Instance*(const std::string& instance_id)>;

// A member is served when its lifecycle state is InService, its instance is running and it has an address.
// Values not in AWS's format (core/aws_values.h) are refused, each listed in its group's `refused`: a member with
// a bad instance id is left out, a bad address is dropped (the member is not served on it).
std::vector<core::GroupMembers> assemble_members(const std::vector<std::string>& wanted,
                                                 const std::vector<aws::AutoScalingGroup>& groups,
                                                 const InstanceLookup& instance);

inline std::vector<core::GroupMembers> assemble_members(const std::vector<std::string>& wanted,
                                                        const std::vector<aws::AutoScalingGroup>& groups,
                                                        const std::map<std::string, aws::Ec2Instance>& instances) {
  return assemble_members(wanted, groups, [&](const std::string& id) -> const aws::Ec2Instance* {
    auto it = instances.find(id);
    return it == instances.end() ? nullptr : &it->second;
  });
}

}  // namespace hasg::discovery
