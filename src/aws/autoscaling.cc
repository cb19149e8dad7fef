#include "aws/autoscaling.h"

#include <openssl/evp.h>
#include <pugixml.hpp>

#include <atomic>
#include <charconv>
#include <cstring>
#include <optional>

#include "util/strings.h"

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
  // A steady cycle's floor is this parse (1.3 MB at 5,000 instances). parse_embed_pcdata keeps each element's text
  // in the element: one node an element instead of two (element and text), the same child_value().
  auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_embed_pcdata);
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
      // One pass over the instance's fields (AWS sends half a dozen more per instance), not a search for each.
      AsgInstance inst;
      for (auto f : i.children()) {
        const std::string_view name = f.name();
        if (name == "InstanceId") inst.instance_id = f.child_value();
        else if (name == "AvailabilityZone") inst.availability_zone = f.child_value();
        else if (name == "LifecycleState") inst.lifecycle_state = f.child_value();
        else if (name == "HealthStatus") inst.health_status = f.child_value();
      }
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
  AsgAnswerMemo seen;
  auto groups = describe_auto_scaling_groups(client, names, nullptr, seen);
  if (!groups) return groups.error();
  return std::move(**groups);
}

AnswerDigest answer_digest(std::string_view xml) {
  // AWS ends every Query answer with <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>; text cannot
  // hold a raw '<', so the last "<ResponseMetadata>" is that element.
  if (auto at = xml.rfind("<ResponseMetadata>"); at != std::string_view::npos) xml = xml.substr(0, at);
  AnswerDigest d{};
  unsigned int len = 0;
  if (EVP_Digest(xml.data(), xml.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 || len != d.size()) {
    // No digest (OpenSSL failing): one that matches no other, so the answer is parsed.
    static std::atomic<uint64_t> unique{0};
    const uint64_t n = ++unique;
    d.fill(0xff);
    std::memcpy(d.data(), &n, sizeof n);
  }
  return d;
}

Result<std::optional<std::vector<AutoScalingGroup>>> describe_auto_scaling_groups(
    QueryClient& client, const std::vector<std::string>& names, const AsgAnswerMemo* last, AsgAnswerMemo& seen) {
  constexpr size_t kMaxNames = 50;
  seen = AsgAnswerMemo{names, {}, true};
  if (last != nullptr && (!last->reusable || last->names != names)) last = nullptr;
  // A page equal to last's is kept unparsed until a page differs (then all are parsed, in order) or the answer
  // ends (then none is).
  std::vector<std::string> held;
  std::vector<AutoScalingGroup> out;
  bool parsing = last == nullptr;
  auto take = [&](AsgPage& page) {
    for (auto& g : page.groups) out.push_back(std::move(g));
  };
  auto parse_held = [&]() -> Status {
    for (const auto& xml : held) {
      auto p = parse_describe_auto_scaling_groups(xml);
      if (!p) return p.error();
      take(*p);
    }
    held.clear();
    return Ok{};
  };
  for (size_t start = 0; start < names.size(); start += kMaxNames) {
    std::string token;
    do {
      QueryParams params;
      for (size_t i = start; i < std::min(names.size(), start + kMaxNames); ++i)
        params.emplace_back("AutoScalingGroupNames.member." + std::to_string(i - start + 1), names[i]);
      params.emplace_back("MaxRecords", "100");
      if (!token.empty()) params.emplace_back("NextToken", token);
      // Decoded inside the call: a malformed answer is a failed call (aws.autoscaling in the fault book).
      std::optional<AsgPage> page;
      AnswerDigest digest{};
      auto body = client.call("DescribeAutoScalingGroups", params, [&](const std::string& xml) -> Status {
        page.reset();
        digest = answer_digest(xml);
        const size_t index = seen.pages.size();
        // The same bytes as last time's page, which carried no token: not parsed (yet).
        if (!parsing && index < last->pages.size() && last->pages[index] == digest) return Ok{};
        auto p = parse_describe_auto_scaling_groups(xml);
        if (!p) return p.error();
        page = std::move(*p);
        return Ok{};
      });
      if (!body) return body.error();
      seen.pages.push_back(digest);
      if (!page) {
        held.push_back(std::move(*body));
        token.clear();
        continue;
      }
      if (!parsing) {
        parsing = true;
        if (auto st = parse_held(); !st) return st.error();
      }
      take(*page);
      token = page->next_token;
      if (!token.empty()) seen.reusable = false;
    } while (!token.empty());
  }
  // Fewer pages than last time is a different answer too.
  if (!parsing && seen.pages.size() == last->pages.size()) return std::optional<std::vector<AutoScalingGroup>>{};
  if (!parsing)
    if (auto st = parse_held(); !st) return st.error();
  return std::optional<std::vector<AutoScalingGroup>>{std::move(out)};
}

namespace {

// <Op>Response / <Op>Result as AWS sends them, or a MalformedResponse naming the operation.
Result<pugi::xml_node> result_node(const pugi::xml_document& doc, const pugi::xml_parse_result& parsed,
                                   const std::string& operation) {
  auto bad = [&](const std::string& what) {
    return make_error("MalformedResponse", "malformed " + operation + " answer: " + what, false);
  };
  if (!parsed) return bad(std::string(parsed.description()) + " at byte " + std::to_string(parsed.offset));
  auto root = doc.child((operation + "Response").c_str());
  if (!root) return bad("no " + operation + "Response element");
  auto result = root.child((operation + "Result").c_str());
  if (!result) return bad("no " + operation + "Result element");
  return result;
}

// AWS's "no active lifecycle action" ValidationError becomes kNoActiveLifecycleAction, its message kept.
Status lifecycle_status(Result<std::string> answer) {
  if (answer) return Ok{};
  Error e = answer.error();
  const bool no_action = to_lower(e.message).find("no active lifecycle action found") != std::string::npos;
  if (e.code == "ValidationError" && no_action) {
    e.code = kNoActiveLifecycleAction;
    e.retryable = false;
  }
  return e;
}

// In the order of the API's input shapes (as botocore sends them).
QueryParams lifecycle_params(const std::string& group, const std::string& hook, const std::string& instance_id,
                             const std::string& token, const std::string& result = "") {
  QueryParams params = {{"LifecycleHookName", hook}, {"AutoScalingGroupName", group}};
  if (!token.empty()) params.emplace_back("LifecycleActionToken", token);
  if (!result.empty()) params.emplace_back("LifecycleActionResult", result);
  if (!instance_id.empty()) params.emplace_back("InstanceId", instance_id);
  return params;
}

Status check_target(const char* operation, const std::string& group, const std::string& hook,
                    const std::string& instance_id, const std::string& token) {
  auto invalid = [&](const std::string& what) {
    return make_error("InvalidArgument", std::string("Auto Scaling ") + operation + ": " + what, false);
  };
  if (group.empty()) return invalid("no group name");
  if (hook.empty()) return invalid("no lifecycle hook name");
  if (instance_id.empty() && token.empty()) return invalid("neither an instance id nor a lifecycle action token");
  return Ok{};
}

}  // namespace

Result<std::vector<LifecycleHook>> parse_describe_lifecycle_hooks(const std::string& xml) {
  pugi::xml_document doc;
  auto parsed = doc.load_string(xml.c_str());
  auto result = result_node(doc, parsed, "DescribeLifecycleHooks");
  if (!result) return result.error();
  std::vector<LifecycleHook> hooks;
  for (auto h : result->child("LifecycleHooks").children("member")) {
    LifecycleHook hook{h.child_value("LifecycleHookName"), h.child_value("LifecycleTransition"),
                       to_int(h.child_value("HeartbeatTimeout")), to_int(h.child_value("GlobalTimeout")),
                       h.child_value("DefaultResult")};
    if (hook.name.empty() || hook.transition.empty())
      return make_error("MalformedResponse",
                        "malformed DescribeLifecycleHooks answer: a hook without LifecycleHookName or "
                        "LifecycleTransition",
                        false);
    hooks.push_back(std::move(hook));
  }
  return hooks;
}

Result<std::vector<LifecycleHook>> describe_lifecycle_hooks(QueryClient& client, const std::string& group) {
  if (group.empty()) return make_error("InvalidArgument", "Auto Scaling DescribeLifecycleHooks: no group name");
  auto body = client.call("DescribeLifecycleHooks", {{"AutoScalingGroupName", group}});
  if (!body) return body.error();
  return parse_describe_lifecycle_hooks(*body);
}

Status complete_lifecycle_action(QueryClient& client, const std::string& group, const std::string& hook,
                                 const std::string& instance_id, const std::string& result,
                                 const std::string& token) {
  if (auto ok = check_target("CompleteLifecycleAction", group, hook, instance_id, token); !ok) return ok;
  if (result != "CONTINUE" && result != "ABANDON")
    return make_error("InvalidArgument",
                      "Auto Scaling CompleteLifecycleAction: the result must be CONTINUE or ABANDON, not '" + result +
                          "'");
  return lifecycle_status(
      client.call("CompleteLifecycleAction", lifecycle_params(group, hook, instance_id, token, result)));
}

Status record_lifecycle_action_heartbeat(QueryClient& client, const std::string& group, const std::string& hook,
                                         const std::string& instance_id, const std::string& token) {
  if (auto ok = check_target("RecordLifecycleActionHeartbeat", group, hook, instance_id, token); !ok) return ok;
  return lifecycle_status(
      client.call("RecordLifecycleActionHeartbeat", lifecycle_params(group, hook, instance_id, token)));
}

Status set_instance_health(QueryClient& client, const std::string& instance_id, const std::string& health_status,
                           bool respect_grace_period) {
  if (instance_id.empty() || (health_status != "Healthy" && health_status != "Unhealthy"))
    return make_error("InvalidArgument", "SetInstanceHealth needs an instance id and Healthy or Unhealthy");
  auto r = client.call("SetInstanceHealth", {{"InstanceId", instance_id},
                                             {"HealthStatus", health_status},
                                             {"ShouldRespectGracePeriod", respect_grace_period ? "true" : "false"}});
  if (!r) return r.error();
  return Ok{};
}

}  // namespace hasg::aws
