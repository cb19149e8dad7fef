// Discovery from AWS: one paginated DescribeAutoScalingGroups for all groups, then DescribeInstances only for
// InService instances whose address is not cached yet (an instance's private address never changes for its
// life, so a running instance is asked about once). A steady cycle costs one API call for all groups together.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "aws/ec2.h"
#include "aws/query_client.h"
#include "discovery/provider.h"

namespace hasg::discovery {

class AsgProvider : public Provider {
 public:
  AsgProvider(aws::QueryClient& autoscaling, aws::QueryClient& ec2) : asg_(autoscaling), ec2_(ec2) {}
  Result<std::vector<core::GroupMembers>> discover(const std::vector<std::string>& groups) override;
  size_t cached_addresses() const;

 private:
  aws::QueryClient& asg_;
  aws::QueryClient& ec2_;
  mutable std::mutex mu_;
  std::map<std::string, aws::Ec2Instance> cache_;  // running instances only
};

}  // namespace hasg::discovery
