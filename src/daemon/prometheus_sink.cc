#include "daemon/prometheus_sink.h"

namespace hasg::daemon {

PrometheusSink::PrometheusSink(Metrics& metrics, const aws::ApiStats* aws_stats) : m_(metrics), aws_stats_(aws_stats) {
  m_.histogram("haproxy_asg_cycle_duration_seconds", "Duration of a sync cycle.",
               {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  m_.counter("haproxy_asg_cycles_total", "Sync cycles by outcome (ok, error).");
  m_.counter("haproxy_asg_cycles_skipped_total",
             "Successful cycles that found every input as the last computed cycle left it, which had nothing to do: "
             "desire, plan, render and apply skipped.");
  m_.counter("haproxy_asg_errors_total", "Failed cycles by error code.");
  m_.gauge("haproxy_asg_servers", "Servers of each managed backend by admin state, as HAProxy reports them.");
  m_.gauge("haproxy_asg_group_members", "Members of each group, served or not.");
  m_.gauge("haproxy_asg_refused_values",
           "Values in the last discovery's answer not in AWS's format (never written into haproxy.cfg or a runtime "
           "command), by group and field (InstanceId, PrivateIpAddress, Ipv6Address).");
  m_.counter("haproxy_asg_operations_total", "Planned operations applied, by kind.");
  m_.counter("haproxy_asg_runtime_commands_total", "Runtime API commands sent to HAProxy.");
  m_.counter("haproxy_asg_reloads_total", "Reloads of HAProxy through the master CLI.");
  m_.counter("haproxy_asg_config_writes_total", "Rewrites of the rendered configuration file.");
  m_.histogram("haproxy_asg_drain_seconds", "Time from the start of a drain to the server's removal.",
               {0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600});
  m_.gauge("haproxy_asg_last_success_timestamp_seconds", "Unix time of the last successful cycle.");
  m_.gauge("haproxy_asg_discovery_ok", "1 when the last discovery succeeded, else 0.");
  m_.counter("haproxy_asg_aws_calls_total", "AWS API calls by operation and outcome (retries included once).");
  m_.counter("haproxy_asg_lifecycle_actions_total",
             "CompleteLifecycleAction calls by hook, result (CONTINUE, ABANDON) and outcome (ok, already: completed "
             "elsewhere, or the error code).");
  m_.counter("haproxy_asg_lifecycle_heartbeats_total", "RecordLifecycleActionHeartbeat calls by hook and outcome.");
  m_.counter("haproxy_asg_cluster_records_total",
             "Drain records (EC2 CreateTags on a departing instance) this node wrote, by outcome.");
  m_.counter("haproxy_asg_health_reports_total",
             "Instances reported Unhealthy to their group (SetInstanceHealth), by group and outcome.");
}

void PrometheusSink::cycle_ended(const CycleEnd& end) {
  m_.observe("haproxy_asg_cycle_duration_seconds", {}, end.seconds);
  if (end.report == nullptr) {
    m_.inc("haproxy_asg_cycles_total", {{"outcome", "error"}});
    const std::string code = end.error != nullptr && !end.error->code.empty() ? end.error->code : "error";
    m_.inc("haproxy_asg_errors_total", {{"code", code}});
    m_.set("haproxy_asg_discovery_ok", {}, end.discovery_ok ? 1 : 0);
    return;
  }
  const CycleReport& r = *end.report;
  for (const auto& d : r.drains_ended) m_.observe("haproxy_asg_drain_seconds", {}, d.seconds);
  m_.inc("haproxy_asg_cycles_total", {{"outcome", "ok"}});
  // Present from the first successful cycle on, at 0 until a cycle is skipped.
  m_.inc("haproxy_asg_cycles_skipped_total", {}, r.skipped ? 1 : 0);
  m_.set("haproxy_asg_last_success_timestamp_seconds", {},
         std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  m_.set("haproxy_asg_discovery_ok", {}, 1);
  for (const auto& op : r.applied_ops) m_.inc("haproxy_asg_operations_total", {{"op", core::to_string(op.kind)}});
  for (const auto& l : r.lifecycle) {
    if (l.op.kind == core::OpKind::ReportUnhealthy)
      m_.inc("haproxy_asg_health_reports_total", {{"group", l.op.group}, {"outcome", l.outcome}});
    else if (l.op.kind == core::OpKind::RecordDrained)
      m_.inc("haproxy_asg_cluster_records_total", {{"outcome", l.outcome}});
    else if (l.op.kind == core::OpKind::CompleteLifecycle)
      m_.inc("haproxy_asg_lifecycle_actions_total",
             {{"hook", l.op.hook}, {"result", l.op.result}, {"outcome", l.outcome}});
    else
      m_.inc("haproxy_asg_lifecycle_heartbeats_total", {{"hook", l.op.hook}, {"outcome", l.outcome}});
  }
  m_.inc("haproxy_asg_runtime_commands_total", {}, static_cast<double>(r.runtime_commands));
  if (r.reloaded) m_.inc("haproxy_asg_reloads_total");
  if (r.config_written) m_.inc("haproxy_asg_config_writes_total");

  // Servers by backend and state as HAProxy reported them at the start of this cycle (one cycle behind the plan
  // just applied, never wrong about what HAProxy said).
  m_.clear("haproxy_asg_servers");
  for (const auto& be : r.actual) {
    std::map<std::string, int> counts = {{"ready", 0}, {"drain", 0}, {"maint", 0}};
    for (const auto& s : be.servers) ++counts[core::to_string(s.admin)];
    for (const auto& [state, n] : counts) m_.set("haproxy_asg_servers", {{"backend", be.backend}, {"state", state}}, n);
  }
  m_.clear("haproxy_asg_group_members");
  for (const auto& g : r.groups) {
    int served = 0;
    for (const auto& mem : g.members) served += mem.served ? 1 : 0;
    m_.set("haproxy_asg_group_members", {{"group", g.group}, {"served", "true"}}, served);
    m_.set("haproxy_asg_group_members", {{"group", g.group}, {"served", "false"}},
           static_cast<double>(g.members.size()) - served);
  }
  m_.clear("haproxy_asg_refused_values");
  for (const auto& g : r.groups) {
    std::map<std::string, int> by_field;
    for (const auto& v : g.refused) ++by_field[v.field];
    for (const auto& [field, n] : by_field)
      m_.set("haproxy_asg_refused_values", {{"group", g.group}, {"field", field}}, n);
  }
}

std::string PrometheusSink::render() {
  std::lock_guard lock(mu_);
  // AWS call counters live in the AWS clients; copied at scrape time.
  if (aws_stats_ != nullptr) {
    for (const auto& [key, n] : aws_stats_->calls()) {
      uint64_t& seen = aws_calls_seen_[key];
      if (n > seen)
        m_.inc("haproxy_asg_aws_calls_total", {{"operation", key.first}, {"outcome", key.second}},
               static_cast<double>(n - seen));
      seen = n;
    }
  }
  return m_.render();
}

}  // namespace hasg::daemon
