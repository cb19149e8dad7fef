#include "daemon/aws_lifecycle.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace hasg::daemon {

namespace {
// The shortest HeartbeatTimeout AWS accepts: used while a hook's own cannot be read, so heartbeats are never late.
constexpr std::chrono::seconds kShortestHeartbeatTimeout{30};
// A group whose hooks could not be read, or lacked the one asked for, is read again after this long.
constexpr std::chrono::seconds kRereadAfter{60};
}  // namespace

Status AwsLifecycleControl::complete(const std::string& group, const std::string& hook, const std::string& instance,
                                     const std::string& result) {
  return aws::complete_lifecycle_action(client_, group, hook, instance, result);
}

Status AwsLifecycleControl::heartbeat(const std::string& group, const std::string& hook, const std::string& instance) {
  return aws::record_lifecycle_action_heartbeat(client_, group, hook, instance);
}

std::optional<aws::LifecycleHook> AwsLifecycleControl::hook(const std::string& group, const std::string& name) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (auto it = hooks_.find({group, name}); it != hooks_.end()) return it->second;
    // A group read lately without this hook (or not read at all) is not asked again every cycle.
    if (auto it = read_at_.find(group); it != read_at_.end() && now - it->second < kRereadAfter) return std::nullopt;
    read_at_[group] = now;
  }
  auto hooks = aws::describe_lifecycle_hooks(client_, group);
  if (!hooks) {
    spdlog::warn("cannot read lifecycle hooks of group {}: {}", group, hooks.error().message);
    return std::nullopt;
  }
  std::lock_guard lock(mu_);
  for (const auto& h : *hooks) hooks_[{group, h.name}] = h;
  if (auto it = hooks_.find({group, name}); it != hooks_.end()) return it->second;
  return std::nullopt;
}

std::chrono::milliseconds AwsLifecycleControl::heartbeat_timeout(const std::string& group, const std::string& name) {
  auto h = hook(group, name);
  if (!h || h->heartbeat_timeout_s <= 0) return kShortestHeartbeatTimeout;
  return std::chrono::seconds(h->heartbeat_timeout_s);
}

void AwsLifecycleControl::check(const config::Config& cfg) {
  {
    // Read afresh (start, SIGHUP): an operator may have changed a hook's timeouts.
    std::lock_guard lock(mu_);
    hooks_.clear();
    read_at_.clear();
  }
  for (const auto& b : cfg.backends) {
    for (const auto& [name, transition] : {std::pair{b.hook_terminating, "autoscaling:EC2_INSTANCE_TERMINATING"},
                                           std::pair{b.hook_launching, "autoscaling:EC2_INSTANCE_LAUNCHING"}}) {
      if (name.empty()) continue;
      auto h = hook(b.group, name);
      if (!h) {
        spdlog::warn("backend {}: group {} has no lifecycle hook {} (or it cannot be read): create it with "
                     "`aws autoscaling put-lifecycle-hook --auto-scaling-group-name {} --lifecycle-hook-name {} "
                     "--lifecycle-transition {}`",
                     b.backend, b.group, name, b.group, name, transition);
        continue;
      }
      if (h->transition != transition)
        spdlog::warn("backend {}: lifecycle hook {} of group {} is for {}, not {}", b.backend, name, b.group,
                     h->transition, transition);
      if (name == b.hook_terminating && h->global_timeout_s > 0 &&
          b.drain_timeout > std::chrono::seconds(h->global_timeout_s))
        spdlog::warn("backend {}: drain_timeout {} s is longer than lifecycle hook {}'s global timeout {} s: the "
                     "group terminates an instance still draining then",
                     b.backend, b.drain_timeout.count() / 1000, name, h->global_timeout_s);
    }
  }
}

Status AwsLifecycleControl::report_unhealthy(const std::string& instance) {
  return aws::set_instance_health(client_, instance, "Unhealthy", /*respect_grace_period=*/true);
}

bool uses_group_calls(const config::Config& cfg) {
  return std::any_of(cfg.backends.begin(), cfg.backends.end(), [](const auto& b) {
    return !b.hook_terminating.empty() || !b.hook_launching.empty() || b.health_feedback;
  });
}

}  // namespace hasg::daemon
