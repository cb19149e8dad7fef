// The pure part of discovery: Auto Scaling's view plus EC2's view of the instances give the members, each marked
// served or not, with the reason.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "core/types.h"

namespace hasg::discovery {

// `instances`: what EC2 said (or the cache remembers) about each instance id. A member is served when its
// lifecycle state is InService, its instance is running and it has an address.
std::vector<core::GroupMembers> assemble_members(const std::vector<std::string>& wanted,
                                                 const std::vector<aws::AutoScalingGroup>& groups,
                                                 const std::map<std::string, aws::Ec2Instance>& instances);

}  // namespace hasg::discovery
