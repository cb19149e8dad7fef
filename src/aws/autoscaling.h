// The Auto Scaling calls haproxy-asg makes, and the decoding of their XML answers
// (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html).
#pragma once

#include <string>
#include <vector>

#include "aws/query_client.h"
#include "util/result.h"

namespace hasg::aws {

inline constexpr const char* kAutoScalingVersion = "2011-01-01";

struct AsgInstance {
  std::string instance_id;
  std::string availability_zone;
  std::string lifecycle_state;
  std::string health_status;
  bool operator==(const AsgInstance&) const = default;
};

struct AutoScalingGroup {
  std::string name;
  int min_size = 0;
  int max_size = 0;
  int desired_capacity = 0;
  std::vector<AsgInstance> instances;
  bool operator==(const AutoScalingGroup&) const = default;
};

struct AsgPage {
  std::vector<AutoScalingGroup> groups;
  std::string next_token;
};

// Decodes one DescribeAutoScalingGroups answer. A body that is not the expected document is a "MalformedResponse"
// error saying what was wrong.
Result<AsgPage> parse_describe_auto_scaling_groups(const std::string& xml);

// All named groups, in as few calls as AWS allows: up to 50 names a request (the API's limit on
// AutoScalingGroupNames), MaxRecords=100, following NextToken. Groups that do not exist are simply absent.
Result<std::vector<AutoScalingGroup>> describe_auto_scaling_groups(QueryClient& client,
                                                                   const std::vector<std::string>& names);

}  // namespace hasg::aws
