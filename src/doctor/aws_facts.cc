// AWS's side of doctor's facts: region, credentials, IMDS, the groups and their hooks, the events queue, and one
// harmless call per permission the configuration needs.
#include <functional>
#include <map>

#include "aws/autoscaling.h"
#include "aws/context.h"
#include "aws/ec2.h"
#include "aws/sqs.h"
#include "core/types.h"
#include "doctor/gather.h"

namespace hasg::doctor {

namespace {

// An instance id no instance has (i- and 17 hex digits, all zero): the calls that take an instance are made with it,
// so that AWS answers whether the call is allowed without acting on anything.
constexpr const char* kMadeUpInstance = "i-00000000000000000";

Failure failure(const Error& e) { return Failure{e.code, e.message}; }

Probe probe(const std::string& call, const hasg::Status& st, std::vector<std::string> harmless = {}) {
  Probe p{call, std::nullopt, std::move(harmless)};
  if (!st) p.error = failure(st.error());
  return p;
}

template <typename T>
hasg::Status status_of(const Result<T>& r) {
  if (!r) return r.error();
  return Ok{};
}

// IMDSv2's token and this instance's id; its metadata options come later, from EC2.
ImdsFacts gather_imds(const aws::Environment& env) {
  ImdsFacts m;
  auto endpoint = aws::ImdsClient::endpoint_from(env);
  if (!endpoint) {
    m.disabled = true;
    return m;
  }
  m.endpoint = *endpoint;
  auto http = aws::make_curl_http_client();
  aws::ImdsClient imds(*http, *endpoint, aws::system_clock());
  auto id = imds.get("meta-data/instance-id");
  if (id)
    m.instance_id = *id;
  else
    m.error = failure(id.error());
  return m;
}

}  // namespace

AwsFacts gather_aws(const config::Config* cfg, std::unique_ptr<aws::Environment> env_owned) {
  AwsFacts f;
  f.imds = gather_imds(*env_owned);
  auto ctx_result = aws::AwsContext::from_environment(std::move(env_owned));
  std::unique_ptr<aws::AwsContext> ctx;
  if (ctx_result) {
    ctx = std::move(*ctx_result);
    f.setup.region = ctx->region();
    auto creds = ctx->credentials().get();
    if (creds)
      f.setup.credentials_source = creds->source;
    else
      f.setup.credentials_error = failure(creds.error());
  } else {
    f.setup.region_error = failure(ctx_result.error());
  }
  if (ctx && !f.setup.credentials_error && !f.imds.instance_id.empty()) {
    auto options = aws::describe_instance_metadata_options(ctx->discovery_ec2(), f.imds.instance_id);
    if (options)
      f.imds.options = *options;
    else
      f.imds.options_error = failure(options.error());
  }
  if (!cfg || !ctx || f.setup.credentials_error) return f;

  // The groups, their hooks and the queue: facts of their own, and the probes of the describe permissions.
  auto groups = aws::describe_auto_scaling_groups(ctx->discovery_autoscaling(), cfg->groups());
  std::map<std::string, Probe> probes;
  probes["autoscaling:DescribeAutoScalingGroups"] = probe("DescribeAutoScalingGroups of the configured groups",
                                                          status_of(groups));
  for (const auto& name : cfg->groups()) {
    GroupFacts g;
    g.group = name;
    if (!groups) {
      g.error = failure(groups.error());
    } else {
      for (const auto& found : *groups) {
        if (found.name != name) continue;
        g.exists = true;
        g.instances = static_cast<int>(found.instances.size());
        g.desired = found.desired_capacity;
      }
    }
    f.groups.push_back(std::move(g));
  }

  const config::BackendConfig* with_hook = nullptr;
  for (const auto& b : cfg->backends) {
    if (b.hook_terminating.empty() && b.hook_launching.empty()) continue;
    if (!with_hook) with_hook = &b;
  }
  for (auto& g : f.groups) {
    if (!g.exists) continue;
    auto hooks = aws::describe_lifecycle_hooks(ctx->lifecycle(), g.group);
    if (hooks)
      g.hooks = *hooks;
    else
      g.hooks_error = failure(hooks.error());
    if (!probes.contains("autoscaling:DescribeLifecycleHooks"))
      probes["autoscaling:DescribeLifecycleHooks"] =
          probe("DescribeLifecycleHooks of group " + g.group, status_of(hooks));
  }

  // The hook the lifecycle calls are probed with (they are needed only when a backend owns one).
  const std::string hook = !with_hook ? "" : with_hook->hook_terminating.empty() ? with_hook->hook_launching
                                                                                : with_hook->hook_terminating;
  // The cluster's probes name this node (its instance id) when known.
  const std::string node = !cfg->cluster.node_id.empty() ? cfg->cluster.node_id
                           : !f.imds.instance_id.empty() ? f.imds.instance_id
                                                         : "doctor";
  const std::string tag_target =
      !cfg->cluster.node_id.empty() || !f.imds.instance_id.empty() ? node : std::string(kMadeUpInstance);
  // One harmless call for each permission not probed above. A made-up instance waits on no hook and is in no group:
  // allowed, AWS answers ValidationError; denied, AccessDenied (authorization comes before the lookup).
  std::map<std::string, std::function<Probe()>> calls = {
      {"ec2:DescribeInstances",
       [&] {
         return probe(std::string("DescribeInstances of made-up instance ") + kMadeUpInstance,
                      status_of(aws::describe_instances(ctx->discovery_ec2(), {kMadeUpInstance})));
       }},
      {"autoscaling:DescribeLifecycleHooks",
       [&] {
         const std::string group = with_hook ? with_hook->group : cfg->groups().front();
         return probe("DescribeLifecycleHooks of group " + group,
                      status_of(aws::describe_lifecycle_hooks(ctx->lifecycle(), group)), {"ValidationError"});
       }},
      {"autoscaling:CompleteLifecycleAction",
       [&] {
         return probe("CompleteLifecycleAction of hook " + hook + " for made-up instance " +
                          kMadeUpInstance,
                      aws::complete_lifecycle_action(ctx->lifecycle(), with_hook->group, hook, kMadeUpInstance,
                                                     "CONTINUE"),
                      {aws::kNoActiveLifecycleAction, "ValidationError"});
       }},
      {"autoscaling:RecordLifecycleActionHeartbeat",
       [&] {
         return probe("RecordLifecycleActionHeartbeat of hook " + hook + " for made-up instance " +
                          kMadeUpInstance,
                      aws::record_lifecycle_action_heartbeat(ctx->lifecycle(), with_hook->group, hook,
                                                             kMadeUpInstance),
                      {aws::kNoActiveLifecycleAction, "ValidationError"});
       }},
      {"autoscaling:SetInstanceHealth",
       [&] {
         // Healthy, and for an instance no group has: nothing to act on either way.
         return probe(std::string("SetInstanceHealth Healthy of made-up instance ") + kMadeUpInstance,
                      aws::set_instance_health(ctx->lifecycle(), kMadeUpInstance, "Healthy", true),
                      {"ValidationError"});
       }},
      // EC2's DryRun: a permitted call answers DryRunOperation (HTTP 412) and does nothing, a denied one
      // UnauthorizedOperation (the DryRun parameter of every EC2 action). CreateTags is probed with a key of the
      // drain records' shape, which the policy's aws:TagKeys condition allows, on this node's own instance when
      // it is known (a made-up one otherwise: EC2 authorizes before it looks the instance up).
      {"ec2:DescribeTags",
       [&] {
         return probe("DescribeTags (DryRun) of the drain records",
                      status_of(ctx->discovery_ec2().call(
                          "DescribeTags", {{"DryRun", "true"},
                                           {"Filter.1.Name", "key"},
                                           {"Filter.1.Value.1", core::drained_tag_key(node)}})),
                      {"DryRunOperation"});
       }},
      {"ec2:CreateTags",
       [&] {
         return probe("CreateTags (DryRun) of " + core::drained_tag_key(node) + " on " + tag_target,
                      status_of(ctx->discovery_ec2().call("CreateTags", {{"DryRun", "true"},
                                                                         {"ResourceId.1", tag_target},
                                                                         {"Tag.1.Key", core::drained_tag_key(node)},
                                                                         {"Tag.1.Value", "doctor"}})),
                      {"DryRunOperation", "InvalidInstanceID.NotFound"});
       }},
      {"sqs:ReceiveMessage",
       [&] {
         // No wait, and a visibility timeout of 0: a message it happens to receive is visible again at once.
         return probe("ReceiveMessage (no wait, visibility 0) on " + cfg->events_queue_url,
                      status_of(aws::receive_messages(ctx->sqs(), cfg->events_queue_url, 1, 0, 0)));
       }},
      {"cloudwatch:PutMetricData",
       [&] {
         // The namespace (what the IAM condition cloudwatch:namespace looks at) and no data: allowed, CloudWatch
         // refuses the call with MissingParameter and stores nothing; denied, AccessDenied.
         const std::string& ns = cfg->cloudwatch.metric_namespace;
         return probe("PutMetricData without data to namespace " + ns,
                      status_of(ctx->cloudwatch().call("PutMetricData", {{"Namespace", ns}})),
                      {"MissingParameter"});
       }},
      {"sqs:DeleteMessage",
       [&] {
         auto r = aws::delete_message_batch(ctx->sqs_acks(), cfg->events_queue_url, {"haproxy-asg-doctor-probe"});
         // Allowed: the call succeeds and its one entry fails with ReceiptHandleIsInvalid.
         return probe("DeleteMessageBatch of a made-up receipt handle on " + cfg->events_queue_url, status_of(r));
       }},
  };
  for (const auto& need : permissions_needed(*cfg)) {
    if (!probes.contains(need.action)) {
      auto it = calls.find(need.action);
      probes[need.action] = it != calls.end() ? it->second()
                                              : Probe{"(no probe for this action)",
                                                      Failure{"NoProbe", "haproxy-asg doctor cannot probe it"}, {}};
    }
    f.permissions.emplace_back(need, probes[need.action]);
    if (need.action == "sqs:ReceiveMessage") f.queue_receive = probes[need.action];
  }
  return f;
}

}  // namespace hasg::doctor
