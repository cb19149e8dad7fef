// Discovery from AWS: one paginated DescribeAutoScalingGroups for all groups, then DescribeInstances only for
// InService instances whose address is not cached yet (an instance's private address never changes for its
// life, so a running instance is asked about once), or that Auto Scaling marks Unhealthy or an EC2 state-change
// event names (their EC2 state may have changed: forget()). A steady, healthy cycle costs one API call for all
// groups together.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "aws/query_client.h"
#include "discovery/provider.h"

namespace hasg::discovery {

class AsgProvider : public Provider {
 public:
  AsgProvider(aws::QueryClient& autoscaling, aws::QueryClient& ec2) : asg_(autoscaling), ec2_(ec2) {}
  Result<std::vector<core::GroupMembers>> discover(const std::vector<std::string>& groups) override;
  // A new one at every discovery that made its members; the same when they were handed out again unchanged.
  std::optional<uint64_t> generation() const override { return generation_; }
  size_t cached_addresses() const;
  // What EC2 said about these instances may be stale (an EC2 state-change event named them): the next discover()
  // asks EC2 about them again. On the cycle's thread, like discover().
  void forget(const std::set<std::string>& instance_ids);

 private:
  aws::QueryClient& asg_;
  aws::QueryClient& ec2_;
  mutable std::mutex mu_;
  // Running instances only. `seen` is the cycle that last found the instance in a group: entries left behind are
  // swept at the end of a cycle without building a set of every present id.
  struct Cached {
    aws::Ec2Instance instance;
    uint64_t seen = 0;
  };
  std::unordered_map<std::string, Cached> cache_;  // hashed: ids share long prefixes
  uint64_t cycle_ = 0;
  // The last discovery that asked EC2 nothing: its Auto Scaling answer and the members made of it. When the next
  // answer has the same bytes, so are its members (the cache they were made from has not changed either): they are
  // handed out again, unparsed. Only discover() and forget() (the cycle's thread) touch it.
  struct Steady {
    aws::AsgAnswerMemo answer;
    std::vector<core::GroupMembers> members;
  };
  std::optional<Steady> steady_;
  uint64_t generation_ = 0;
};

}  // namespace hasg::discovery
