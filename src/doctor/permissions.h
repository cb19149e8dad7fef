// The AWS actions a configuration makes haproxy-asg call, each with why, and the verdict on the harmless call that
// probes it. A new use of AWS (CloudWatch's PutMetricData, say) is one more entry in permissions_needed() and one
// more probe in aws_facts.cc.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "doctor/facts.h"
#include "doctor/report.h"

namespace hasg::doctor {

struct PermissionNeed {
  std::string action;  // IAM's name: "autoscaling:DescribeLifecycleHooks"
  std::string why;     // the configuration that needs it: "lifecycle_hooks of backend app"
  bool operator==(const PermissionNeed&) const = default;
};

// In the order a cycle uses them; each action once (the reasons joined).
std::vector<PermissionNeed> permissions_needed(const config::Config& cfg);

// PASS when the call succeeded or failed the harmless way; FAIL with the policy line to add when AWS denied it;
// SKIP when the queue it needs does not exist (check_queue says so); FAIL when the call failed otherwise.
CheckResult check_permission(const PermissionNeed& need, const Probe& probe);

}  // namespace hasg::doctor
