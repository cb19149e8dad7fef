// The Auto Scaling Query API (version 2011-01-01): XML answers in AWS's shapes.
#include <algorithm>
#include <pugixml.hpp>

#include "sim/service.h"

namespace hasg::sim {

namespace {

constexpr const char* kAsgNs = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

class AutoScalingApi : public Service {
 public:
  explicit AutoScalingApi(SimState& state) : Service(state) {
    on("DescribeAutoScalingGroups", [this](Call& c) { return describe_auto_scaling_groups(c.params); });
    on("PutLifecycleHook", [this](Call& c) { return put_lifecycle_hook(c); });
    on("DescribeLifecycleHooks", [this](Call& c) { return describe_lifecycle_hooks(c); });
    on("DeleteLifecycleHook", [this](Call& c) { return delete_lifecycle_hook(c); });
    on("CompleteLifecycleAction", [this](Call& c) { return complete_lifecycle_action(c); });
    on("RecordLifecycleActionHeartbeat", [this](Call& c) { return record_lifecycle_action_heartbeat(c); });
    on("SetInstanceHealth", [this](Call& c) { return set_instance_health(c); });
  }

  std::string signing_name() const override { return "autoscaling"; }
  Answer error(const Call&, int status, const std::string& code, const std::string& message) const override {
    return query_error(kAsgNs, status, code, message);
  }
  Answer throttled(const Call& c) const override { return error(c, 400, "Throttling", "Rate exceeded"); }
  Answer internal_error(const Call& c) const override {
    return error(c, 500, "InternalFailure", "An internal error occurred.");
  }

 private:
  Answer describe_auto_scaling_groups(const Params& p) {
    auto names = list_param(p, "AutoScalingGroupNames.member");
    int max_records = 50;
    if (auto mr = param(p, "MaxRecords"); !mr.empty()) {
      try {
        max_records = std::stoi(mr);
      } catch (...) {
        max_records = -1;
      }
      if (max_records < 1 || max_records > 100)
        return query_error(kAsgNs, 400, "ValidationError",
                           "1 validation error detected: Value '" + mr +
                               "' at 'maxRecords' failed to satisfy constraint: Member must have value less than or "
                               "equal to 100");
    }
    size_t offset = 0;
    if (auto tok = param(p, "NextToken"); !tok.empty()) {
      if (!tok.starts_with("asg-") || !parse_offset(tok.substr(4), offset))
        return query_error(kAsgNs, 400, "InvalidNextToken", "The token '" + tok + "' is invalid.");
    }
    std::vector<const Group*> selected;
    for (const auto& [name, g] : state_.groups)
      if (names.empty() || std::find(names.begin(), names.end(), name) != names.end()) selected.push_back(&g);

    pugi::xml_document doc;
    auto root = doc.append_child("DescribeAutoScalingGroupsResponse");
    root.append_attribute("xmlns") = kAsgNs;
    auto result = root.append_child("DescribeAutoScalingGroupsResult");
    auto list = result.append_child("AutoScalingGroups");
    if (state_.opt.page_size > 0) max_records = std::min(max_records, state_.opt.page_size);
    size_t end = std::min(selected.size(), offset + static_cast<size_t>(max_records));
    for (size_t i = offset; i < end; ++i) {
      const Group& g = *selected[i];
      auto m = list.append_child("member");
      m.append_child("AutoScalingGroupName").text() = g.name.c_str();
      m.append_child("AutoScalingGroupARN").text() = g.arn.c_str();
      m.append_child("MinSize").text() = g.min_size;
      m.append_child("MaxSize").text() = g.max_size;
      m.append_child("DesiredCapacity").text() = g.desired;
      m.append_child("DefaultCooldown").text() = 300;
      auto zones = m.append_child("AvailabilityZones");
      for (const auto& z : state_.opt.zones) zones.append_child("member").text() = z.c_str();
      m.append_child("LoadBalancerNames");
      m.append_child("TargetGroupARNs");
      m.append_child("HealthCheckType").text() = "EC2";
      m.append_child("HealthCheckGracePeriod").text() = g.health_check_grace_period;
      auto insts = m.append_child("Instances");
      for (const auto& [id, inst] : state_.instances) {
        if (!inst.member || inst.view.group != g.name) continue;
        auto im = insts.append_child("member");
        im.append_child("InstanceId").text() = id.c_str();
        im.append_child("InstanceType").text() = "t3.micro";
        im.append_child("AvailabilityZone").text() = inst.view.zone.c_str();
        im.append_child("LifecycleState").text() = inst.view.lifecycle.c_str();
        im.append_child("HealthStatus").text() = inst.view.health.c_str();
        im.append_child("ProtectedFromScaleIn").text() = "false";
      }
      m.append_child("CreatedTime").text() = g.created.c_str();
      m.append_child("SuspendedProcesses");
      m.append_child("EnabledMetrics");
      auto tp = m.append_child("TerminationPolicies");
      tp.append_child("member").text() = "Default";
      m.append_child("NewInstancesProtectedFromScaleIn").text() = "false";
    }
    if (end < selected.size()) result.append_child("NextToken").text() = ("asg-" + std::to_string(end)).c_str();
    root.append_child("ResponseMetadata").append_child("RequestId").text() = request_id().c_str();
    return {200, xml_string(doc)};
  }

  // ---- lifecycle hooks ----------------------------------------------------------------------------------------

  Answer invalid(const std::string& message) { return query_error(kAsgNs, 400, "ValidationError", message); }

  // "1 validation error detected: Value null at 'lifecycleHookName' ..." for a missing required parameter.
  std::optional<Answer> require(const Params& p, std::initializer_list<std::pair<const char*, const char*>> names) {
    for (const auto& [param_name, member] : names)
      if (!p.contains(param_name))
        return invalid(std::string("1 validation error detected: Value null at '") + member +
                       "' failed to satisfy constraint: Member must not be null");
    return std::nullopt;
  }

  // <ActionResponse><ActionResult/><ResponseMetadata/></ActionResponse>: the answer of calls that return nothing.
  static Answer empty_answer(const std::string& action) {
    pugi::xml_document doc;
    auto root = doc.append_child((action + "Response").c_str());
    root.append_attribute("xmlns") = kAsgNs;
    root.append_child((action + "Result").c_str());
    root.append_child("ResponseMetadata").append_child("RequestId").text() = request_id().c_str();
    return {200, xml_string(doc)};
  }

  Answer put_lifecycle_hook(const Call& c) {
    const auto& p = c.params;
    if (auto e =
            require(p, {{"LifecycleHookName", "lifecycleHookName"}, {"AutoScalingGroupName", "autoScalingGroupName"}}))
      return *e;
    LifecycleHookSpec h;
    h.group = param(p, "AutoScalingGroupName");
    h.name = param(p, "LifecycleHookName");
    h.transition.clear();
    // An update keeps what it does not name.
    if (auto g = state_.groups.find(h.group); g != state_.groups.end())
      if (auto old = g->second.hooks.find(h.name); old != g->second.hooks.end()) {
        h = old->second;
        h.global_timeout.reset();
      }
    if (p.contains("LifecycleTransition")) h.transition = param(p, "LifecycleTransition");
    if (p.contains("RoleARN")) h.role_arn = param(p, "RoleARN");
    if (p.contains("NotificationTargetARN")) h.notification_target_arn = param(p, "NotificationTargetARN");
    if (p.contains("NotificationMetadata")) h.notification_metadata = param(p, "NotificationMetadata");
    if (p.contains("DefaultResult")) h.default_result = param(p, "DefaultResult");
    if (p.contains("HeartbeatTimeout")) {
      try {
        h.heartbeat_timeout = std::stoi(param(p, "HeartbeatTimeout"));
      } catch (...) {
        return invalid("Value '" + param(p, "HeartbeatTimeout") + "' at 'heartbeatTimeout' is not an integer");
      }
    }
    if (auto st = state_.put_hook(std::move(h)); !st) return invalid(st.error().message);
    return empty_answer("PutLifecycleHook");
  }

  Answer describe_lifecycle_hooks(const Call& c) {
    const auto& p = c.params;
    if (auto e = require(p, {{"AutoScalingGroupName", "autoScalingGroupName"}})) return *e;
    auto g = state_.groups.find(param(p, "AutoScalingGroupName"));
    if (g == state_.groups.end()) return invalid("Group " + param(p, "AutoScalingGroupName") + " not found");
    auto names = list_param(p, "LifecycleHookNames.member");
    pugi::xml_document doc;
    auto root = doc.append_child("DescribeLifecycleHooksResponse");
    root.append_attribute("xmlns") = kAsgNs;
    auto list = root.append_child("DescribeLifecycleHooksResult").append_child("LifecycleHooks");
    for (const auto& [name, h] : g->second.hooks) {
      if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
      auto m = list.append_child("member");
      m.append_child("LifecycleHookName").text() = h.name.c_str();
      m.append_child("AutoScalingGroupName").text() = h.group.c_str();
      m.append_child("LifecycleTransition").text() = h.transition.c_str();
      if (!h.notification_target_arn.empty())
        m.append_child("NotificationTargetARN").text() = h.notification_target_arn.c_str();
      if (!h.role_arn.empty()) m.append_child("RoleARN").text() = h.role_arn.c_str();
      if (!h.notification_metadata.empty())
        m.append_child("NotificationMetadata").text() = h.notification_metadata.c_str();
      m.append_child("HeartbeatTimeout").text() = h.heartbeat_timeout;
      m.append_child("GlobalTimeout").text() = h.global_timeout.value_or(0);
      m.append_child("DefaultResult").text() = h.default_result.c_str();
    }
    root.append_child("ResponseMetadata").append_child("RequestId").text() = request_id().c_str();
    return {200, xml_string(doc)};
  }

  Answer delete_lifecycle_hook(const Call& c) {
    const auto& p = c.params;
    if (auto e =
            require(p, {{"LifecycleHookName", "lifecycleHookName"}, {"AutoScalingGroupName", "autoScalingGroupName"}}))
      return *e;
    std::string group = param(p, "AutoScalingGroupName"), name = param(p, "LifecycleHookName");
    auto g = state_.groups.find(group);
    if (g == state_.groups.end() || !g->second.hooks.contains(name))
      return invalid("No Lifecycle Hook found with name " + name + " for group " + group);
    // Outstanding actions complete: ABANDON for launching instances, CONTINUE for terminating ones. The hook goes
    // first, so that a launch abandoned here and replaced does not wait on it again.
    g->second.hooks.erase(name);
    for (size_t i = 0; i < state_.actions.size(); ++i) {
      auto& a = state_.actions[i];
      if (a.times.completed || a.times.group != group || a.times.hook != name) continue;
      state_.complete_action(a, a.times.transition == kLaunchingTransition ? "ABANDON" : "CONTINUE",
                             "DeleteLifecycleHook");
    }
    return empty_answer("DeleteLifecycleHook");
  }

  // The action a Complete or Heartbeat call names (by InstanceId or LifecycleActionToken), or its error.
  Result<LifecycleAction*> named_action(const Params& p) {
    return state_.active_action(param(p, "AutoScalingGroupName"), param(p, "LifecycleHookName"), param(p, "InstanceId"),
                                param(p, "LifecycleActionToken"));
  }

  Answer complete_lifecycle_action(const Call& c) {
    const auto& p = c.params;
    if (auto e = require(p, {{"LifecycleHookName", "lifecycleHookName"},
                             {"AutoScalingGroupName", "autoScalingGroupName"},
                             {"LifecycleActionResult", "lifecycleActionResult"}}))
      return *e;
    std::string result = param(p, "LifecycleActionResult");
    if (result != "CONTINUE" && result != "ABANDON")
      return invalid("Valid values for LifecycleActionResult are CONTINUE and ABANDON");
    auto action = named_action(p);
    if (!action) return invalid(action.error().message);
    state_.complete_action(**action, result, "CompleteLifecycleAction");
    return empty_answer("CompleteLifecycleAction");
  }

  Answer record_lifecycle_action_heartbeat(const Call& c) {
    const auto& p = c.params;
    if (auto e =
            require(p, {{"LifecycleHookName", "lifecycleHookName"}, {"AutoScalingGroupName", "autoScalingGroupName"}}))
      return *e;
    auto action = named_action(p);
    if (!action) return invalid(action.error().message);
    state_.heartbeat(**action);
    return empty_answer("RecordLifecycleActionHeartbeat");
  }

  // ---- health ----------------------------------------------------------------------------------------------------

  // SetInstanceHealth has no output shape: AWS answers <SetInstanceHealthResponse> with only its ResponseMetadata.
  Answer set_instance_health(const Call& c) {
    const auto& p = c.params;
    if (auto e = require(p, {{"InstanceId", "instanceId"}, {"HealthStatus", "healthStatus"}})) return *e;
    std::string id = param(p, "InstanceId"), health = param(p, "HealthStatus");
    if (id.empty() || id.size() > 19)
      return invalid("1 validation error detected: Value '" + id +
                     "' at 'instanceId' failed to satisfy constraint: Member must have length less than or equal to "
                     "19 and greater than or equal to 1");
    if (health != "Healthy" && health != "Unhealthy")
      return invalid("Valid values for HealthStatus are Healthy and Unhealthy");
    bool respect = true;  // AWS's default
    if (p.contains("ShouldRespectGracePeriod")) {
      std::string v = param(p, "ShouldRespectGracePeriod");
      if (v == "true") {
        respect = true;
      } else if (v == "false") {
        respect = false;
      } else {
        return invalid("1 validation error detected: Value '" + v +
                       "' at 'shouldRespectGracePeriod' failed to satisfy constraint: Member must be a boolean");
      }
    }
    if (auto st = state_.report_health(id, health, respect); !st) return invalid(st.error().message);
    pugi::xml_document doc;
    auto root = doc.append_child("SetInstanceHealthResponse");
    root.append_attribute("xmlns") = kAsgNs;
    root.append_child("ResponseMetadata").append_child("RequestId").text() = request_id().c_str();
    return {200, xml_string(doc)};
  }
};

}  // namespace

std::unique_ptr<Service> make_autoscaling_api(SimState& state) { return std::make_unique<AutoScalingApi>(state); }

}  // namespace hasg::sim
