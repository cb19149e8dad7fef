#include "aws/autoscaling.h"

#include <pugixml.hpp>

#include <charconv>

namespace hasg::aws {

namespace {

Error malformed(const std::string& what) {
  return make_error("MalformedResponse", "malformed DescribeAutoScalingGroups answer: " + what, false);
}

int to_int(const char* s) {
  int v = 0;
  std::string_view sv(s);
  std::from_chars(sv.data(), sv.data() + sv.size(), v);
  return v;
}

}  // namespace

Result<AsgPage> parse_describe_auto_scaling_groups(const std::string& xml) {
  pugi::xml_document doc;
  auto parsed = doc.load_string(xml.c_str());
  if (!parsed) return malformed(std::string(parsed.description()) + " at byte " + std::to_string(parsed.offset));
  auto root = doc.child("DescribeAutoScalingGroupsResponse");
  if (!root) return malformed("no DescribeAutoScalingGroupsResponse element");
  auto result = root.child("DescribeAutoScalingGroupsResult");
  if (!result) return malformed("no DescribeAutoScalingGroupsResult element");
  auto groups = result.child("AutoScalingGroups");
  if (!groups) return malformed("no AutoScalingGroups element");

  AsgPage page;
  page.next_token = result.child_value("NextToken");
  for (auto g : groups.children("member")) {
    AutoScalingGroup group;
    group.name = g.child_value("AutoScalingGroupName");
    if (group.name.empty()) return malformed("a group without AutoScalingGroupName");
    group.min_size = to_int(g.child_value("MinSize"));
    group.max_size = to_int(g.child_value("MaxSize"));
    group.desired_capacity = to_int(g.child_value("DesiredCapacity"));
    for (auto i : g.child("Instances").children("member")) {
      AsgInstance inst{i.child_value("InstanceId"), i.child_value("AvailabilityZone"), i.child_value("LifecycleState"),
                       i.child_value("HealthStatus")};
      if (inst.instance_id.empty() || inst.lifecycle_state.empty())
        return malformed("an instance of group " + group.name + " without InstanceId or LifecycleState");
      group.instances.push_back(std::move(inst));
    }
    page.groups.push_back(std::move(group));
  }
  return page;
}

Result<std::vector<AutoScalingGroup>> describe_auto_scaling_groups(QueryClient& client,
                                                                   const std::vector<std::string>& names) {
  constexpr size_t kMaxNames = 50;
  std::vector<AutoScalingGroup> out;
  for (size_t start = 0; start < names.size(); start += kMaxNames) {
    std::string token;
    do {
      QueryParams params;
      for (size_t i = start; i < std::min(names.size(), start + kMaxNames); ++i)
        params.emplace_back("AutoScalingGroupNames.member." + std::to_string(i - start + 1), names[i]);
      params.emplace_back("MaxRecords", "100");
      if (!token.empty()) params.emplace_back("NextToken", token);
      auto body = client.call("DescribeAutoScalingGroups", params);
      if (!body) return body.error();
      auto page = parse_describe_auto_scaling_groups(*body);
      if (!page) return page.error();
      for (auto& g : page->groups) out.push_back(std::move(g));
      token = page->next_token;
    } while (!token.empty());
  }
  return out;
}

}  // namespace hasg::aws
