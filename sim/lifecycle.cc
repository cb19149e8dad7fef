// Lifecycle hooks: PutLifecycleHook's rules, the wait states (Pending:Wait, Terminating:Wait), their completion,
// heartbeats and timeouts, and the notifications Auto Scaling sends to a hook's target and to EventBridge.
#include <algorithm>

#include "sim/sim_state.h"
#include "sim/wire.h"

namespace hasg::sim {

namespace {

Error validation(const std::string& message) { return make_error("ValidationError", message); }

}  // namespace

Status SimState::put_hook(LifecycleHookSpec hook) {
  auto g = groups.find(hook.group);
  if (g == groups.end()) return validation("Group " + hook.group + " not found");
  if (hook.name.empty() || hook.name.size() > 255)
    return validation("1 validation error detected: Value '" + hook.name +
                      "' at 'lifecycleHookName' failed to satisfy constraint: Member must have length less than or "
                      "equal to 255 and greater than or equal to 1");
  auto existing = g->second.hooks.find(hook.name);
  if (hook.transition.empty() && existing != g->second.hooks.end()) hook.transition = existing->second.transition;
  if (hook.transition != kLaunchingTransition && hook.transition != kTerminatingTransition)
    return validation("Invalid value for Lifecycle Transition: '" + hook.transition +
                      "'. Valid values are autoscaling:EC2_INSTANCE_LAUNCHING and "
                      "autoscaling:EC2_INSTANCE_TERMINATING");
  if (hook.default_result != "CONTINUE" && hook.default_result != "ABANDON")
    return validation("Valid values for DefaultResult are CONTINUE and ABANDON");
  if (hook.heartbeat_timeout < 30 || hook.heartbeat_timeout > 7200)
    return validation("Heartbeat timeout must be between 30 and 7200 seconds");
  if (!hook.global_timeout) hook.global_timeout = std::min(100 * hook.heartbeat_timeout, 172800);
  if (hook.notification_metadata.size() > 1023)
    return validation("Notification metadata must be at most 1023 characters");
  if (!hook.notification_target_arn.empty()) {
    SqsQueue* q = queue_by_arn(hook.notification_target_arn);
    if (!q)
      return validation("Unable to publish test message to notification target " + hook.notification_target_arn +
                        " using IAM role " + hook.role_arn +
                        ". Please check your target and role configuration and try to put lifecycle hook again.");
    nlohmann::json test = {{"AccountId", kAccountId},
                           {"RequestId", uuid()},
                           {"AutoScalingGroupARN", g->second.arn},
                           {"AutoScalingGroupName", g->second.name},
                           {"Service", "AWS Auto Scaling"},
                           {"Event", "autoscaling:TEST_NOTIFICATION"},
                           {"Time", iso8601_ms(std::chrono::system_clock::now())}};
    send_message(*q, test.dump());
  }
  g->second.hooks[hook.name] = std::move(hook);
  return Ok{};
}

bool SimState::enter_wait(Instance& inst, const std::string& transition) {
  auto g = groups.find(inst.view.group);
  if (g == groups.end()) return false;
  std::vector<const LifecycleHookSpec*> hooks;
  for (const auto& [name, h] : g->second.hooks)
    if (h.transition == transition) hooks.push_back(&h);
  if (hooks.empty()) return false;
  auto now = std::chrono::steady_clock::now();
  inst.changed = now;
  inst.view.lifecycle = transition == kLaunchingTransition ? "Pending:Wait" : "Terminating:Wait";
  for (const auto* h : hooks) {
    LifecycleAction a;
    a.times.instance_id = inst.view.id;
    a.times.group = g->second.name;
    a.times.hook = h->name;
    a.times.transition = transition;
    a.times.token = uuid();
    a.times.entered_wait = now;
    a.heartbeat_deadline = now + h->heartbeat_timeout * opt.hook_second;
    a.global_deadline = now + *h->global_timeout * opt.hook_second;
    actions.push_back(a);
    notify(g->second, *h, a);
  }
  return true;
}

void SimState::notify(const Group& g, const LifecycleHookSpec& hook, const LifecycleAction& action) {
  bool launching = action.times.transition == kLaunchingTransition;
  nlohmann::json detail = {{"LifecycleActionToken", action.times.token},
                           {"AutoScalingGroupName", g.name},
                           {"LifecycleHookName", hook.name},
                           {"EC2InstanceId", action.times.instance_id},
                           {"LifecycleTransition", action.times.transition}};
  if (!hook.notification_metadata.empty()) detail["NotificationMetadata"] = hook.notification_metadata;
  detail["Origin"] = launching ? "EC2" : "AutoScalingGroup";
  detail["Destination"] = launching ? "AutoScalingGroup" : "EC2";
  if (!hook.notification_target_arn.empty()) {
    if (SqsQueue* q = queue_by_arn(hook.notification_target_arn)) {
      nlohmann::json msg = detail;
      msg["Service"] = "AWS Auto Scaling";
      msg["Time"] = iso8601_ms(std::chrono::system_clock::now());
      msg["RequestId"] = uuid();
      msg["AccountId"] = kAccountId;
      send_message(*q, msg.dump());
    }
  }
  emit_event("aws.autoscaling",
             launching ? "EC2 Instance-launch Lifecycle Action" : "EC2 Instance-terminate Lifecycle Action", {g.arn},
             detail);
}

Result<LifecycleAction*> SimState::active_action(const std::string& group, const std::string& hook,
                                                 const std::string& instance_id, const std::string& token) {
  for (auto& a : actions) {
    if (a.times.completed || a.times.group != group || a.times.hook != hook) continue;
    if (!token.empty() ? a.times.token == token : a.times.instance_id == instance_id) return &a;
  }
  if (!token.empty()) return validation("No active Lifecycle Action found with token " + token);
  return validation("No active Lifecycle Action found with instance ID " + instance_id);
}

void SimState::heartbeat(LifecycleAction& action) {
  ++action.times.heartbeats;
  int timeout = 3600;
  if (auto g = groups.find(action.times.group); g != groups.end())
    if (auto h = g->second.hooks.find(action.times.hook); h != g->second.hooks.end())
      timeout = h->second.heartbeat_timeout;
  action.heartbeat_deadline = std::chrono::steady_clock::now() + timeout * opt.hook_second;
}

void SimState::complete_action(LifecycleAction& action, const std::string& result, const std::string& by) {
  action.times.completed = std::chrono::steady_clock::now();
  action.times.completed_by = by;
  action.times.result = result;
  std::string id = action.times.instance_id, transition = action.times.transition;
  // The instance moves on once every hook of its transition is done; one ABANDON abandons a launch.
  bool abandon = false;
  for (const auto& a : actions) {
    if (a.times.instance_id != id || a.times.transition != transition) continue;
    if (!a.times.completed) return;
    if (a.times.entered_wait == action.times.entered_wait && a.times.result == "ABANDON") abandon = true;
  }
  Instance* inst = member(id);
  if (!inst) return;
  std::string wait = transition == kLaunchingTransition ? "Pending:Wait" : "Terminating:Wait";
  if (inst->view.lifecycle != wait) return;  // moved by hand meanwhile
  proceed(*inst, transition, abandon ? "ABANDON" : "CONTINUE");
}

void SimState::proceed(Instance& inst, const std::string& transition, const std::string& result) {
  inst.changed = std::chrono::steady_clock::now();
  if (transition == kTerminatingTransition) {  // both results terminate
    inst.view.lifecycle = "Terminating:Proceed";
    if (opt.terminating.count() == 0) finish_termination(inst);
    return;
  }
  if (result == "CONTINUE") {
    inst.view.lifecycle = "Pending:Proceed";  // InService at the next tick
    return;
  }
  // An abandoned launch: the instance is terminated and the group launches a replacement.
  inst.view.lifecycle = "Terminating";
  if (opt.terminating.count() == 0) finish_termination(inst);
  if (auto g = groups.find(inst.view.group); g != groups.end()) reconcile(g->second);
}

}  // namespace hasg::sim
