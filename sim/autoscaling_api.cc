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
    size_t end = std::min(selected.size(), offset + static_cast<size_t>(max_records));
    for (size_t i = offset; i < end; ++i) {
      const Group& g = *selected[i];
      auto m = list.append_child("member");
      m.append_child("AutoScalingGroupName").text() = g.name.c_str();
      m.append_child("AutoScalingGroupARN").text() =
          ("arn:aws:autoscaling:" + state_.opt.region + ":123456789012:autoScalingGroup:" + random_hex(state_.rng, 8) +
           ":autoScalingGroupName/" + g.name)
              .c_str();
      m.append_child("MinSize").text() = g.min_size;
      m.append_child("MaxSize").text() = g.max_size;
      m.append_child("DesiredCapacity").text() = g.desired;
      m.append_child("DefaultCooldown").text() = 300;
      auto zones = m.append_child("AvailabilityZones");
      for (const auto& z : state_.opt.zones) zones.append_child("member").text() = z.c_str();
      m.append_child("LoadBalancerNames");
      m.append_child("TargetGroupARNs");
      m.append_child("HealthCheckType").text() = "EC2";
      m.append_child("HealthCheckGracePeriod").text() = 300;
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
};

}  // namespace

std::unique_ptr<Service> make_autoscaling_api(SimState& state) { return std::make_unique<AutoScalingApi>(state); }

Answer Service::dispatch(Call& call) {
  auto it = handlers_.find(call.action);
  if (it == handlers_.end())
    return error(call, 400, "InvalidAction", "The action " + call.action + " is not valid for this web service.");
  return it->second(call);
}

}  // namespace hasg::sim
