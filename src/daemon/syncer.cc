#include "daemon/syncer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "core/desire.h"
#include "core/membership.h"
#include "haproxy/renderer.h"

namespace hasg::daemon {

namespace {

const core::ActualBackend* find_actual(const std::vector<core::ActualBackend>& actual, const std::string& name) {
  auto it = std::find_if(actual.begin(), actual.end(), [&](const auto& a) { return a.backend == name; });
  return it == actual.end() ? nullptr : &*it;
}

// The renderer's view of each desired backend, with the servers `serving(backend)` gives it.
template <typename Serving>
std::vector<haproxy::ManagedBackend> managed_backends(const std::vector<core::DesiredBackend>& desired,
                                                      Serving serving) {
  std::vector<haproxy::ManagedBackend> out;
  out.reserve(desired.size());
  for (const auto& d : desired)
    out.push_back(haproxy::ManagedBackend{d.backend, d.group, d.port, d.server_options, serving(d)});
  return out;
}

// The peers section's content (cluster.peers): the cluster's nodes as discovery saw them. A change of them changes
// the configuration's structure, so the planner's structural path reloads HAProxy (validated first).
haproxy::ManagedPeers managed_peers(const config::ClusterSettings& cluster,
                                    const std::vector<core::GroupMembers>& groups) {
  haproxy::ManagedPeers p;
  if (!cluster.enabled() || cluster.peers_section.empty()) return p;
  p.section = cluster.peers_section;
  p.group = cluster.group;
  p.port = cluster.peers_port;
  p.self = cluster.node_id;
  p.nodes = core::cluster_peers(groups, cluster.group, cluster.node_id);
  return p;
}

// A lifecycle call that failed is tried again this soon (a heartbeat must not wait for the next interval).
constexpr std::chrono::seconds kLifecycleRetry{5};

std::string describe(const core::Op& op) {
  if (core::is_lifecycle_op(op.kind))
    return std::string(core::to_string(op.kind)) + " " + op.group + "/" + op.hook + " " + op.server + " " +
           op.result + " (" + op.reason + ")";
  std::string s = std::string(core::to_string(op.kind)) + " " + core::server_key(op.backend, op.server);
  if (op.kind == core::OpKind::Add || op.kind == core::OpKind::SetAddress)
    s += " " + core::endpoint(op.address, op.port);
  return s + " (" + op.reason + ")";
}

}  // namespace

// The facts a cycle decides on, gathered before anything is decided.
struct Syncer::Observed {
  std::vector<core::GroupMembers> groups;
  std::vector<core::DesiredBackend> desired;
  core::ClusterView cluster;
  haproxy::ManagedPeers peers;  // section empty: no cluster.peers
  std::string template_text;
  std::string template_name;
  haproxy::TemplateInfo template_info;
  bool haproxy_running = false;
  std::vector<core::ActualBackend> actual;  // empty when not running
  std::string current;                      // the configuration file now ("" when there is none)
  bool structure_changed = false;
};

Syncer::Syncer(config::Config cfg, discovery::Provider& provider, HaproxyControl& haproxy, ConfigFiles& files,
               LifecycleControl* lifecycle, ClusterRecords* cluster)
    : cfg_(std::move(cfg)),
      provider_(provider),
      haproxy_(haproxy),
      files_(files),
      lifecycle_(lifecycle),
      cluster_(cluster) {}

core::ClusterView Syncer::cluster_view(const std::vector<core::GroupMembers>& groups,
                                       const std::vector<core::DesiredBackend>& desired) {
  core::ClusterView view;
  if (!cfg_.cluster.enabled()) return view;
  view.enabled = true;
  view.self = cfg_.cluster.node_id;
  auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.group == cfg_.cluster.group; });
  if (g == groups.end() || !g->found) {
    spdlog::warn("cluster group {} was not found: termination hooks complete only at their drain timeout",
                 cfg_.cluster.group);
    view.complete = false;
    return view;
  }
  for (const auto& m : g->members)
    if (m.lifecycle_state == "InService") view.nodes.insert(m.instance_id);
  if (view.self.empty()) {
    spdlog::warn("cluster: this node's id is unknown (no cluster.node_id, IMDS did not tell): termination hooks "
                 "complete only at their drain timeout");
    view.complete = false;
    return view;
  }
  // A cluster of one reads nothing: it behaves exactly as without `cluster`.
  const auto others = view.others();
  if (others.empty()) return view;
  std::set<std::string> waiting;
  for (const auto& d : desired) {
    if (d.hook_terminating.empty()) continue;
    for (const auto& [instance, state] : d.lifecycle)
      if (core::waits_on_terminate_hook(state)) waiting.insert(instance);
  }
  if (waiting.empty()) return view;
  if (cluster_ == nullptr) {
    view.complete = false;
    return view;
  }
  auto records = cluster_->drained({waiting.begin(), waiting.end()}, view.nodes);
  if (!records) {
    spdlog::warn("cluster: cannot read the drain records (EC2 DescribeTags): {}", records.error().message);
    view.complete = false;
    return view;
  }
  view.drained = std::move(*records);
  return view;
}

Result<std::string> Syncer::render_only() {
  auto groups = provider_.discover(cfg_.groups());
  if (!groups) return groups.error();
  auto tmpl = files_.read_template();
  if (!tmpl) return tmpl.error();
  auto desired = core::desire(cfg_.backends, *groups);
  const auto peers = managed_peers(cfg_.cluster, *groups);
  return haproxy::render(*tmpl, std::filesystem::path(cfg_.haproxy.template_path).filename().string(),
                         managed_backends(desired, [](const core::DesiredBackend& d) { return d.servers; }), &peers);
}

Result<Syncer::Observed> Syncer::observe(std::vector<core::GroupMembers> groups) {
  Observed seen;
  seen.groups = std::move(groups);
  seen.desired = core::desire(cfg_.backends, seen.groups);
  for (auto& d : seen.desired)
    if (!d.hook_terminating.empty() && lifecycle_ != nullptr)
      d.hook_heartbeat_timeout = lifecycle_->heartbeat_timeout(d.group, d.hook_terminating);
  seen.cluster = cluster_view(seen.groups, seen.desired);
  seen.peers = managed_peers(cfg_.cluster, seen.groups);
  if (!seen.peers.section.empty()) {
    const bool has_self = std::any_of(seen.peers.nodes.begin(), seen.peers.nodes.end(),
                                      [&](const auto& n) { return n.name == seen.peers.self; });
    if (!has_self)
      spdlog::warn("cluster: this node ({}) is not among the discovered peers of group {}: HAProxy leaves peers {} "
                   "out until it is (stick tables are not shared meanwhile)",
                   seen.peers.self.empty() ? "id unknown" : seen.peers.self, cfg_.cluster.group,
                   seen.peers.section);
  }
  auto tmpl = files_.read_template();
  if (!tmpl) return tmpl.error();
  seen.template_text = std::move(*tmpl);
  seen.template_name = std::filesystem::path(cfg_.haproxy.template_path).filename().string();
  auto info = haproxy::inspect_template(seen.template_text, seen.template_name);
  if (!info) return info.error();
  seen.template_info = std::move(*info);

  std::vector<std::string> names;
  for (const auto& b : cfg_.backends) names.push_back(b.backend);
  auto actual = haproxy_.servers(names);
  // Only a missing or refusing socket means "not running"; any other socket error ends the cycle.
  if (!actual && actual.error().code != "HaproxyNotRunning") return actual.error();
  seen.haproxy_running = actual.ok();
  if (actual) seen.actual = std::move(*actual);

  auto current = files_.read_current();
  if (!current) return current.error();
  seen.current = std::move(*current);
  // Structure is everything but the managed server lines, so the template rendered without servers tells it.
  auto bare = haproxy::render(seen.template_text, seen.template_name,
                              managed_backends(seen.desired, [](const core::DesiredBackend&) {
                                return std::vector<core::DesiredServer>{};
                              }),
                              &seen.peers);
  if (!bare) return bare.error();
  seen.structure_changed = haproxy::structure_of(seen.current) != haproxy::structure_of(*bare);
  return seen;
}

core::Plan Syncer::decide(const Observed& seen, const core::SyncState& state, core::TimePoint now) const {
  core::PlanInput in;
  in.desired = seen.desired;
  in.haproxy_running = seen.haproxy_running;
  in.actual = seen.actual;
  in.drains = state.drains;
  in.now = now;
  in.unmanaged = seen.template_info.declared_servers;
  in.options.max_remove_fraction = cfg_.max_remove_fraction;
  in.structure_changed = seen.structure_changed;
  in.config_missing = seen.current.empty();
  in.reload_pending = state.reload_pending;
  in.reload_requested = state.reload_requested;
  in.hooks = state.hooks;
  in.down_since = state.down_since;
  in.reported = state.reported;
  in.cluster = seen.cluster;
  in.poll_interval = cfg_.interval;
  return core::plan(in);
}

CycleOutcome Syncer::run(const core::SyncState& state, bool dry_run, core::TimePoint now) {
  CycleOutcome out{CycleReport{}, state, false, std::nullopt};

  // Discover. A failed discovery ends the cycle here: nothing may be concluded from it.
  auto groups = provider_.discover(cfg_.groups());
  out.discovery_ok = groups.ok();
  if (!groups) {
    out.report = groups.error();
    return out;
  }
  // Past discovery, a failure still keeps the hooks of draining instances alive (not in a dry run).
  auto fail = [&](Error e) {
    if (!dry_run) out.next_due = keep_hooks_alive(out.state, core::Clock::now());
    out.report = std::move(e);
    return out;
  };
  auto seen = observe(std::move(*groups));
  if (!seen) return fail(seen.error());
  CycleReport report;
  report.groups = seen->groups;
  report.haproxy_running = seen->haproxy_running;
  report.actual = seen->actual;

  // Decide.
  report.plan = decide(*seen, state, now);
  if (!report.plan.refusal.empty()) return fail(make_error("IncompleteDiscovery", report.plan.refusal));

  // Render what HAProxy will serve once the plan is applied.
  auto rendered = haproxy::render(
      seen->template_text, seen->template_name, managed_backends(seen->desired, [&](const core::DesiredBackend& d) {
        const core::ActualBackend* a = seen->haproxy_running ? find_actual(seen->actual, d.backend) : nullptr;
        return core::serving_after(d, a, report.plan, seen->template_info.declared_servers);
      }),
      &seen->peers);
  if (!rendered) return fail(rendered.error());
  report.rendered = std::move(*rendered);
  report.config_changed = seen->current != report.rendered;
  if (dry_run) {  // the caller shows the plan, warnings included
    report.hooks = report.plan.hooks;
    out.report = std::move(report);
    return out;
  }
  for (const auto& w : report.plan.warnings) spdlog::warn("{}", w);

  // Apply.
  if (auto st = apply(*seen, report, out.state); !st) return fail(st.error());
  out.report = std::move(report);
  return out;
}

Status Syncer::apply(const Observed& seen, CycleReport& report, core::SyncState& state) {
  // Validate first: a bad render changes nothing at all.
  bool reloading = seen.haproxy_running && report.plan.reload_needed;
  if (report.config_changed) {
    if (auto st = files_.stage(report.rendered); !st) return st;
  } else if (reloading) {
    // A reload of the file as it is (asked for by the certificate watch, or retried) is validated too: `haproxy -c`
    // loads the certificates, so a broken one cannot take HAProxy down. Only the reload waits then: the membership
    // still goes through the Runtime API, and the reload is tried again by the next cycles.
    if (auto st = files_.stage(report.rendered); !st) {
      if (refused_reload_ != st.error().message)
        spdlog::error("not reloading HAProxy ({}), retried each cycle: {}", report.plan.reload_reason,
                      st.error().message);
      refused_reload_ = st.error().message;
      reloading = false;
    } else {
      refused_reload_.clear();
    }
  }
  std::vector<core::Op> haproxy_ops;
  for (const auto& op : report.plan.ops)
    if (!core::is_lifecycle_op(op.kind)) haproxy_ops.push_back(op);
  if (reloading) {
    // The file holds the whole wanted membership; the reload makes HAProxy run it, so no runtime commands.
    if (report.config_changed) {
      if (auto st = files_.install(); !st) return st;
      report.config_written = true;
    }
    // From here the file is ahead of HAProxy until a reload succeeds; remembered, so a failed reload is retried
    // by the next cycles instead of being forgotten once the file matches the render.
    state.reload_pending = true;
    spdlog::info("reloading HAProxy: {}", report.plan.reload_reason);
    if (auto st = haproxy_.reload(); !st) return st;
    state.reload_pending = false;
    state.reload_requested.clear();
    report.reloaded = true;
    state.drains = report.plan.drains;
  } else {
    if (!seen.haproxy_running) state.reload_requested.clear();  // its next start loads the files as they are
    if (seen.haproxy_running && !haproxy_ops.empty()) {
      for (const auto& op : haproxy_ops) spdlog::info("{}", describe(op));
      auto applied = haproxy_.apply(haproxy_ops);
      if (!applied) return applied.error();  // the file is not replaced: the next cycle re-plans from HAProxy's state
      report.runtime_commands = applied->commands;
      report.applied_ops = haproxy_ops;
      // Drain times: servers that left the drain book through a Remove sent to HAProxy.
      for (const auto& op : report.applied_ops) {
        if (op.kind != core::OpKind::Remove) continue;
        std::string key = core::server_key(op.backend, op.server);
        auto it = state.drains.find(key);
        if (it != state.drains.end())
          report.drains_ended.push_back(
              DrainEnded{key, std::chrono::duration<double>(core::Clock::now() - it->second.since).count()});
      }
    }
    state.drains = report.plan.drains;
    if (report.config_changed) {
      if (auto st = files_.install(); !st) return st;
      report.config_written = true;
      if (!seen.haproxy_running) spdlog::info("HAProxy is not running: wrote {}", cfg_.haproxy.config_path);
    }
  }
  // Auto Scaling after HAProxy: a hook is completed only once HAProxy no longer serves the instance.
  apply_lifecycle(report, state, core::Clock::now());
  return Ok{};
}

std::optional<core::TimePoint> Syncer::keep_hooks_alive(core::SyncState& state, core::TimePoint now) {
  // A cycle that failed after discovery decides nothing (completing a hook could let the group kill an instance
  // still served), but an instance draining on our termination hook must not have it expire meanwhile: its
  // heartbeats go out on the same schedule as the planner's, and the loop wakes for the next one even while it
  // backs off.
  if (lifecycle_ == nullptr) return std::nullopt;
  std::optional<core::TimePoint> next;
  for (auto& [key, h] : state.hooks) {
    if (h.transition != "terminating" || h.completed) continue;
    const auto every = core::heartbeat_every(lifecycle_->heartbeat_timeout(h.group, h.hook));
    core::TimePoint due = h.last_beat + every;
    if (now >= due) {
      const std::string instance = key.substr(key.rfind('/') + 1);
      Status st = lifecycle_->heartbeat(h.group, h.hook, instance);
      if (st || st.error().code == "NoActiveLifecycleAction") {
        h.last_beat = now;
        if (!st) h.completed = true;
        spdlog::info("lifecycle hook {} of {}: heartbeat for {} (the cycle failed)", h.hook, h.group, instance);
        due = now + every;
      } else {
        spdlog::warn("lifecycle hook {} of {}: heartbeat for {} failed: {}", h.hook, h.group, instance,
                     st.error().message);
        due = now + kLifecycleRetry;
      }
    }
    if (!next || due < *next) next = due;
  }
  return next;
}

void Syncer::apply_lifecycle(CycleReport& report, core::SyncState& state, core::TimePoint now) {
  state.hooks = report.plan.hooks;
  state.down_since = report.plan.down_since;
  state.reported = report.plan.reported;
  if (lifecycle_ == nullptr) return;
  for (const auto& op : report.plan.ops) {
    if (!core::is_lifecycle_op(op.kind)) continue;
    if (op.kind == core::OpKind::RecordDrained) {
      Status st = cluster_ != nullptr ? cluster_->record(op.server, op.tag_key, op.tag_value)
                                      : Status(make_error("NoClusterRecords", "no cluster records edge"));
      report.lifecycle.push_back(LifecycleResult{op, st ? "ok" : st.error().code});
      if (st) {
        if (auto rec = state.hooks.find(op.group + "/" + op.hook + "/" + op.server); rec != state.hooks.end())
          rec->second.recorded = true;
        spdlog::info("cluster: recorded {}={} on {} ({})", op.tag_key, op.tag_value, op.server, op.reason);
      } else {
        spdlog::warn("cluster: recording {} on {} failed, retried next cycle: {}", op.tag_key, op.server,
                     st.error().message);
      }
      continue;
    }
    if (op.kind == core::OpKind::ReportUnhealthy) {
      Status st = lifecycle_->report_unhealthy(op.server);
      report.lifecycle.push_back(LifecycleResult{op, st ? "ok" : st.error().code});
      if (st) {
        state.reported.insert(op.group + "/" + op.server);
        spdlog::warn("reported {} of group {} Unhealthy: {} (the group replaces it)", op.server, op.group, op.reason);
      } else {
        spdlog::warn("reporting {} of group {} Unhealthy failed, retried next cycle: {}", op.server, op.group,
                     st.error().message);
      }
      continue;
    }
    const bool complete = op.kind == core::OpKind::CompleteLifecycle;
    const std::string key = op.group + "/" + op.hook + "/" + op.server;
    Status st = complete ? lifecycle_->complete(op.group, op.hook, op.server, op.result)
                         : lifecycle_->heartbeat(op.group, op.hook, op.server);
    std::string outcome = "ok";
    if (!st) outcome = st.error().code == "NoActiveLifecycleAction" ? "already" : st.error().code;
    report.lifecycle.push_back(LifecycleResult{op, outcome});
    auto rec = state.hooks.find(key);
    if (outcome == "ok" || outcome == "already") {
      if (rec != state.hooks.end()) {
        // No active action also ends a heartbeat's purpose: whoever completed it, nothing is waiting any more.
        if (complete || outcome == "already") rec->second.completed = true;
        if (!complete) rec->second.last_beat = now;
      }
      if (complete && outcome == "ok")
        spdlog::info("lifecycle hook {} of {} completed for {} with {} ({})", op.hook, op.group, op.server, op.result,
                     op.reason);
      else if (complete)
        spdlog::info("lifecycle hook {} of {}: no action waits for {} any more (completed elsewhere)", op.hook,
                     op.group, op.server);
      else
        spdlog::info("lifecycle hook {} of {}: heartbeat for {} ({})", op.hook, op.group, op.server, op.reason);
      continue;
    }
    spdlog::warn("lifecycle hook {} of {}: {} for {} failed, retried in a few seconds: {}", op.hook, op.group,
                 complete ? "completion" : "heartbeat", op.server, st.error().message);
    // Retried soon, not at the next interval: a heartbeat that waits an interval may come after the hook expired.
    auto soon = now + kLifecycleRetry;
    if (!report.plan.next_due || soon < *report.plan.next_due) report.plan.next_due = soon;
    if (st.error().code == "ConnectionError" || st.error().code == "RequestTimeout") {
      // AWS unreachable: the rest would each wait their timeout too; the next cycle tries them all again.
      spdlog::warn("lifecycle calls stopped for this cycle: Auto Scaling is not reachable");
      break;
    }
  }
  report.hooks = state.hooks;
}

namespace {

// Tells whoever asked when a reload happens: just before it and once it is done (or failed).
class ReloadNotifyingControl : public HaproxyControl {
 public:
  ReloadNotifyingControl(std::unique_ptr<HaproxyControl> inner, ReloadNotice around_reload)
      : inner_(std::move(inner)), around_reload_(std::move(around_reload)) {}
  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>& backends) override {
    return inner_->servers(backends);
  }
  Result<haproxy::RuntimeClient::ApplyResult> apply(const std::vector<core::Op>& ops) override {
    return inner_->apply(ops);
  }
  Status reload() override {
    around_reload_(true);
    auto st = inner_->reload();
    around_reload_(false);
    return st;
  }

 private:
  std::unique_ptr<HaproxyControl> inner_;
  ReloadNotice around_reload_;
};

}  // namespace

SyncEdges make_sync_edges(const config::Config& cfg, discovery::Provider& provider, LifecycleControl* lifecycle,
                          ReloadNotice around_reload, ClusterRecords* cluster) {
  SyncEdges e;
  e.control = make_socket_control(cfg.haproxy);
  if (around_reload)
    e.control = std::make_unique<ReloadNotifyingControl>(std::move(e.control), std::move(around_reload));
  e.files = make_disk_files(cfg.haproxy);
  e.syncer = std::make_unique<Syncer>(cfg, provider, *e.control, *e.files, lifecycle, cluster);
  return e;
}

}  // namespace hasg::daemon
