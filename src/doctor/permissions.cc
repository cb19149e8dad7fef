#include "doctor/permissions.h"

#include <algorithm>

#include "doctor/checks.h"

namespace hasg::doctor {

std::vector<PermissionNeed> permissions_needed(const config::Config& cfg) {
  std::vector<PermissionNeed> out;
  auto need = [&](const std::string& action, const std::string& why) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& n) { return n.action == action; });
    if (it == out.end())
      out.push_back({action, why});
    else if (it->why.find(why) == std::string::npos)
      it->why += ", " + why;
  };
  if (cfg.backends.empty()) return out;
  need("autoscaling:DescribeAutoScalingGroups", "discovery");
  need("ec2:DescribeInstances", "discovery");
  for (const auto& b : cfg.backends) {
    const std::string hooks = "lifecycle_hooks of backend " + b.backend;
    if (!b.hook_terminating.empty() || !b.hook_launching.empty()) {
      need("autoscaling:DescribeLifecycleHooks", hooks);
      need("autoscaling:CompleteLifecycleAction", hooks);
      need("autoscaling:RecordLifecycleActionHeartbeat", hooks);
    }
    if (b.health_feedback) need("autoscaling:SetInstanceHealth", "health_feedback of backend " + b.backend);
  }
  if (cfg.cluster.enabled()) {
    // The drain records of the cluster's nodes: tags on the departing instances (daemon/cluster_records.h).
    need("ec2:DescribeTags", "cluster");
    need("ec2:CreateTags", "cluster");
  }
  if (cfg.cloudwatch.enabled) need("cloudwatch:PutMetricData", "cloudwatch");
  if (!cfg.events_queue_url.empty()) {
    need("sqs:ReceiveMessage", "events.queue_url");
    need("sqs:DeleteMessage", "events.queue_url");  // DeleteMessageBatch is authorized as sqs:DeleteMessage
  }
  return out;
}

CheckResult check_permission(const PermissionNeed& need, const Probe& probe) {
  const std::string id = "aws.permission " + need.action;
  if (!probe.error) return pass(id, "allowed (" + probe.call + "), needed for " + need.why);
  const auto& e = *probe.error;
  if (std::find(probe.harmless.begin(), probe.harmless.end(), e.code) != probe.harmless.end())
    return pass(id, "allowed (" + probe.call + " answered " + e.code + "), needed for " + need.why);
  if (is_denial(e.code))
    return fail(id, "denied (" + probe.call + "): " + e.message + "; needed for " + need.why,
                "add \"" + need.action + "\" to the Action list of the IAM policy of haproxy-asg's role "
                "(packaging/iam-policy.json lists every action it needs)");
  if (is_missing_queue(e.code)) return skip(id, "the queue does not exist (see aws.events_queue)");
  return fail(id, "cannot tell (" + probe.call + "): " + e.message, "see the error; then run haproxy-asg doctor again");
}

}  // namespace hasg::doctor
