// The Auto Scaling calls haproxy-asg makes, and the decoding of their XML answers
// (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
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

// SHA-256 of a DescribeAutoScalingGroups answer up to its ResponseMetadata (the RequestId differs at every call, the
// rest only when a group does): two answers with the same digest say the same thing.
using AnswerDigest = std::array<unsigned char, 32>;
AnswerDigest answer_digest(std::string_view xml);

// What one describe_auto_scaling_groups call was answered: the names asked for and each page's digest, in order.
// `reusable` is false when a page carried a NextToken (an opaque token may differ from call to call; such answers
// are always parsed).
struct AsgAnswerMemo {
  std::vector<std::string> names;
  std::vector<AnswerDigest> pages;
  bool reusable = true;
};

// As above, for a steady cycle: when `last` is given, asked for the same names, and every page of this answer has
// the digest of the same page in `last`, nothing is parsed and the result is std::nullopt: "the same groups as
// `last`". Otherwise every page is parsed (a page equal to last's too), as above. `seen` gets this call's memo.
// Digesting is about a third of the parse's CPU (1.3 MB at 5,000 instances: ~1 ms against ~3.5), and no document
// is built.
Result<std::optional<std::vector<AutoScalingGroup>>> describe_auto_scaling_groups(
    QueryClient& client, const std::vector<std::string>& names, const AsgAnswerMemo* last, AsgAnswerMemo& seen);

// Lifecycle hooks (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeLifecycleHooks.html,
// API_CompleteLifecycleAction.html, API_RecordLifecycleActionHeartbeat.html).
struct LifecycleHook {
  std::string name;
  std::string transition;       // "autoscaling:EC2_INSTANCE_LAUNCHING" or "autoscaling:EC2_INSTANCE_TERMINATING"
  int heartbeat_timeout_s = 0;  // AWS's default: 3600
  int global_timeout_s = 0;     // AWS: 100 x HeartbeatTimeout or 172800, whichever is smaller
  std::string default_result;   // "CONTINUE" or "ABANDON"
  bool operator==(const LifecycleHook&) const = default;
};

// The Error code of CompleteLifecycleAction / RecordLifecycleActionHeartbeat when the instance waits on no such
// hook (any more): AWS answers ValidationError "No active Lifecycle Action found with instance ID i-..." (or
// "... with token ..."): someone else completed it, it timed out, or it never started. The message is AWS's.
inline constexpr const char* kNoActiveLifecycleAction = "NoActiveLifecycleAction";

Result<std::vector<LifecycleHook>> parse_describe_lifecycle_hooks(const std::string& xml);

// The group's hooks (all of them: DescribeLifecycleHooks is not paginated). A group that does not exist is
// AWS's ValidationError.
Result<std::vector<LifecycleHook>> describe_lifecycle_hooks(QueryClient& client, const std::string& group);

// Ends the lifecycle action `hook` holds `instance_id` in, with `result` "CONTINUE" or "ABANDON" (anything else is
// an "InvalidArgument" error, not sent). `token`, when given, is sent as LifecycleActionToken as well.
// kNoActiveLifecycleAction when there is no such action.
Status complete_lifecycle_action(QueryClient& client, const std::string& group, const std::string& hook,
                                 const std::string& instance_id, const std::string& result,
                                 const std::string& token = "");

// Restarts the hook's heartbeat timeout for `instance_id` (up to the hook's global timeout).
// kNoActiveLifecycleAction when there is no such action.
Status record_lifecycle_action_heartbeat(QueryClient& client, const std::string& group, const std::string& hook,
                                         const std::string& instance_id, const std::string& token = "");

// SetInstanceHealth (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetInstanceHealth.html): tells
// the group an instance is Healthy or Unhealthy; with `respect_grace_period` the group ignores it during the
// instance's health check grace period. An Unhealthy instance is replaced by the group.
Status set_instance_health(QueryClient& client, const std::string& instance_id, const std::string& health_status,
                           bool respect_grace_period);

}  // namespace hasg::aws
