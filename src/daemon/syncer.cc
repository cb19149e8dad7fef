#include "daemon/syncer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "core/aws_values.h"
#include "core/desire.h"
#include "daemon/aws_faults.h"
#include "core/membership.h"
#include "daemon/cycle_fingerprint.h"
#include "haproxy/renderer.h"
#include "util/clock.h"

namespace hasg::daemon {

namespace {

// A failed AWS call the fault book already logged (once) is debug here; any other stays a warning.
spdlog::level::level_enum level_of(const Error& e) {
  return logged_as_fault(e) ? spdlog::level::debug : spdlog::level::warn;
}

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

// The fault of an edge, with what the operator can do about it (README, "Faults and what haproxy-asg does").
EdgeFault template_fault(const config::Config& cfg, const Error& e) {
  return {"template", e.message,
          "fix " + cfg.haproxy.template_path +
              " (or server_options) at the line named; HAProxy keeps running the last good configuration and "
              "membership; `haproxy-asg render` shows the render"};
}

EdgeFault config_file_fault(const config::Config& cfg, const Error& e) {
  return {"haproxy.config_file", e.message,
          "let haproxy-asg write " + cfg.haproxy.config_path +
              " and its directory (permissions, a read-only mount, free space); meanwhile membership still goes "
              "through the runtime API, but a restart of HAProxy would load the old file"};
}

// A stage() failure: the render refused by `haproxy -c` is the template's fault, anything else the file's.
EdgeFault stage_fault(const config::Config& cfg, const Error& e) {
  return e.code == "InvalidConfig" ? template_fault(cfg, e) : config_file_fault(cfg, e);
}

EdgeFault runtime_fault(const config::Config& cfg, const std::string& message) {
  return {"haproxy.runtime", message,
          "start HAProxy, or restore its `stats socket " + cfg.haproxy.runtime_socket +
              " level admin` (a removed socket file needs a restart of HAProxy); haproxy-asg re-reads HAProxy's "
              "servers and repairs them as soon as it answers"};
}

EdgeFault reload_fault(const config::Config& cfg, const Error& e) {
  if (e.code == "ConnectionError" || e.code == "HaproxyNotRunning" || e.code == "NoMasterSocket")
    return {"haproxy.master", "cannot reload HAProxy: " + e.message,
            "check that HAProxy runs in master-worker mode with -S " + cfg.haproxy.master_socket +
                " (haproxy.master_socket); the reload is retried each cycle"};
  return {"haproxy.reload", e.message,
          "see HAProxy's log (journalctl -u haproxy) and `haproxy -c -f " + cfg.haproxy.config_path +
              "`; HAProxy keeps its old workers, and the reload is retried each cycle"};
}

}  // namespace

// The facts a cycle decides on: first what is read (gather: everything the cycle's fingerprint covers), then what
// is derived from it (derive: desire, the template's facts, whether the structure changed).
struct Syncer::Observed {
  std::vector<core::GroupMembers> groups;
  core::ClusterView cluster;
  haproxy::ManagedPeers peers;  // section empty: no cluster.peers
  std::string template_text;
  bool haproxy_running = false;
  std::vector<core::ActualBackend> actual;  // empty when not running
  std::string current;                      // the configuration file now ("" when there is none)
  std::vector<std::chrono::milliseconds> heartbeat_timeouts;  // each backend's terminating hook's (0: none)
  // Derived:
  std::vector<core::DesiredBackend> desired;
  std::string template_name;
  haproxy::TemplateInfo template_info;
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

core::ClusterView Syncer::cluster_view(const std::vector<core::GroupMembers>& groups) {
  core::ClusterView view;
  if (!cfg_.cluster.enabled()) return view;
  view.enabled = true;
  view.self = cfg_.cluster.node_id;
  auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.group == cfg_.cluster.group; });
  if (g == groups.end() || !g->found) {
    // Said when it starts and when it ends, not at every cycle.
    if (!cluster_group_missing_)
      spdlog::warn("cluster group {} was not found: termination hooks complete only at their drain timeout",
                   cfg_.cluster.group);
    cluster_group_missing_ = true;
    view.complete = false;
    return view;
  }
  if (cluster_group_missing_) spdlog::info("cluster group {} is found again", cfg_.cluster.group);
  cluster_group_missing_ = false;
  for (const auto& m : g->members)
    if (m.lifecycle_state == "InService") view.nodes.insert(m.instance_id);
  if (view.self.empty()) {
    // The daemon's fault book says it once (aws.imds), not each cycle.
    spdlog::debug("cluster: this node's id is unknown (no cluster.node_id, IMDS did not tell): termination hooks "
                  "complete only at their drain timeout");
    view.complete = false;
    return view;
  }
  // A cluster of one reads nothing: it behaves exactly as without `cluster`.
  const auto others = view.others();
  if (others.empty()) return view;
  // The members waiting on a termination hook some backend of their group owns.
  std::set<std::string> waiting;
  for (const auto& b : cfg_.backends) {
    if (b.hook_terminating.empty()) continue;
    for (const auto& grp : groups)
      if (grp.group == b.group)
        for (const auto& m : grp.members)
          if (core::waits_on_terminate_hook(m.lifecycle_state)) waiting.insert(m.instance_id);
  }
  if (waiting.empty()) return view;
  if (cluster_ == nullptr) {
    view.complete = false;
    return view;
  }
  auto records = cluster_->drained({waiting.begin(), waiting.end()}, view.nodes);
  if (!records) {
    // The fault book says it once (aws.cluster) when it is an outage; not at every cycle.
    spdlog::log(level_of(records.error()), "cluster: cannot read the drain records (EC2 DescribeTags): {}",
                records.error().message);
    view.complete = false;
    return view;
  }
  view.drained = std::move(*records);
  return view;
}

void Syncer::log_refused(const std::vector<core::GroupMembers>& groups) {
  std::set<std::pair<std::string, core::RefusedValue>> now;
  for (const auto& g : groups)
    for (const auto& r : g.refused) {
      if (!refused_values_.contains({g.group, r}))
        spdlog::warn("group {}: refused {} '{}' of instance '{}' from AWS: {}; that instance is not served (the rest "
                     "of the group is)",
                     g.group, r.field, core::printable(r.value), core::printable(r.instance_id), r.reason);
      now.insert({g.group, r});
    }
  refused_values_ = std::move(now);
}

Result<std::string> Syncer::render_only() {
  auto groups = provider_.discover(cfg_.groups());
  if (!groups) return groups.error();
  log_refused(*groups);
  auto tmpl = files_.read_template();
  if (!tmpl) return tmpl.error();
  auto desired = core::desire(cfg_.backends, *groups);
  const auto peers = managed_peers(cfg_.cluster, *groups);
  return haproxy::render(*tmpl, std::filesystem::path(cfg_.haproxy.template_path).filename().string(),
                         managed_backends(desired, [](const core::DesiredBackend& d) { return d.servers; }), &peers);
}

Result<Syncer::Observed> Syncer::gather(std::vector<core::GroupMembers> groups, const core::SyncState& state,
                                        CycleOutcome& out) {
  Observed seen;
  seen.groups = std::move(groups);
  for (const auto& b : cfg_.backends)
    seen.heartbeat_timeouts.push_back(!b.hook_terminating.empty() && lifecycle_ != nullptr
                                          ? lifecycle_->heartbeat_timeout(b.group, b.hook_terminating)
                                          : std::chrono::milliseconds{0});
  seen.cluster = cluster_view(seen.groups);
  seen.peers = managed_peers(cfg_.cluster, seen.groups);
  if (!seen.peers.section.empty()) {
    const bool has_self = std::any_of(seen.peers.nodes.begin(), seen.peers.nodes.end(),
                                      [&](const auto& n) { return n.name == seen.peers.self; });
    // Logged when it starts, not at every cycle (a node is not its own peer while it boots, for example).
    if (!has_self && !peers_self_missing_)
      spdlog::warn("cluster: this node ({}) is not among the discovered peers of group {}: peers {} is written "
                   "disabled until it is (stick tables are not shared meanwhile)",
                   seen.peers.self.empty() ? "id unknown" : seen.peers.self, cfg_.cluster.group,
                   seen.peers.section);
    if (has_self && peers_self_missing_) spdlog::info("cluster: this node is among the peers of {} again", seen.peers.section);
    peers_self_missing_ = !has_self;
  }
  auto tmpl = files_.read_template();
  if (!tmpl) {
    out.faults.push_back(template_fault(cfg_, tmpl.error()));
    return tmpl.error();
  }
  seen.template_text = std::move(*tmpl);

  std::vector<std::string> names;
  for (const auto& b : cfg_.backends) names.push_back(b.backend);
  // Sessions are read where the planner looks at them: servers in drain, and the backends of the drain book.
  std::set<std::string> sessions_of;
  for (const auto& [key, rec] : state.drains) sessions_of.insert(key.substr(0, key.find('/')));
  auto actual = haproxy_.servers(names, sessions_of);
  // Only a missing or refusing socket means "not running"; any other socket error ends the cycle. Either is a
  // fault for the daemon: not running, HAProxy serves nothing, and only the file is written.
  if (!actual) {
    out.faults.push_back(runtime_fault(
        cfg_, actual.error().code == "HaproxyNotRunning"
                  ? "HAProxy does not answer on its runtime socket (" + actual.error().message +
                        "): only the configuration file is written"
                  : actual.error().message));
    if (actual.error().code != "HaproxyNotRunning") return actual.error();
  }
  seen.haproxy_running = actual.ok();
  if (actual) seen.actual = std::move(*actual);

  auto current = files_.read_current();
  if (!current) {
    out.faults.push_back(config_file_fault(cfg_, current.error()));
    return current.error();
  }
  seen.current = std::move(*current);
  return seen;
}

Status Syncer::derive(Observed& seen, CycleOutcome& out) const {
  seen.desired = core::desire(cfg_.backends, seen.groups);
  for (size_t i = 0; i < seen.desired.size() && i < seen.heartbeat_timeouts.size(); ++i)
    if (!seen.desired[i].hook_terminating.empty()) seen.desired[i].hook_heartbeat_timeout = seen.heartbeat_timeouts[i];
  seen.template_name = std::filesystem::path(cfg_.haproxy.template_path).filename().string();
  auto info = haproxy::inspect_template(seen.template_text, seen.template_name);
  if (!info) {
    out.faults.push_back(template_fault(cfg_, info.error()));
    return info.error();
  }
  seen.template_info = std::move(*info);
  // Structure is everything but the managed server lines, so the template rendered without servers tells it.
  auto bare = haproxy::render(seen.template_text, seen.template_name,
                              managed_backends(seen.desired, [](const core::DesiredBackend&) {
                                return std::vector<core::DesiredServer>{};
                              }),
                              &seen.peers);
  if (!bare) {
    out.faults.push_back(template_fault(cfg_, bare.error()));
    return bare.error();
  }
  seen.structure_changed = haproxy::structure_of(seen.current) != haproxy::structure_of(*bare);
  return Ok{};
}

core::PlanInput Syncer::plan_input(const Observed& seen, const core::SyncState& state, core::TimePoint now) const {
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
  return in;
}

CycleOutcome Syncer::run(const core::SyncState& state, bool dry_run, core::TimePoint now) {
  CycleOutcome out{CycleReport{}, state, false, std::nullopt, {}, {}};

  // Discover. A failed discovery ends the cycle here: nothing may be concluded from it.
  auto phase_start = std::chrono::steady_clock::now();
  auto groups = provider_.discover(cfg_.groups());
  CycleReport::Phases phases;
  phases.discover = seconds_since(phase_start);
  const std::optional<uint64_t> generation = provider_.generation();
  out.discovery_ok = groups.ok();
  if (!groups) {
    // Nothing is concluded from it, but the hooks of instances draining on our termination hook are kept alive: a
    // discovery that fails for longer than a hook's heartbeat timeout (throttled, 5xx) must not let the group
    // terminate an instance HAProxy may still be draining (not in a dry run).
    last_.reset();  // as after any failure: the next cycle computes (a provider without generations included)
    if (!dry_run) out.next_due = keep_hooks_alive(out.state, core::Clock::now());
    out.report = groups.error();
    return out;
  }
  log_refused(*groups);
  // Past discovery too, a failure keeps the hooks of draining instances alive (not in a dry run).
  auto fail = [&](Error e) {
    last_.reset();
    if (!dry_run) out.next_due = keep_hooks_alive(out.state, core::Clock::now());
    out.report = std::move(e);
    return out;
  };
  phase_start = std::chrono::steady_clock::now();
  auto seen = gather(std::move(*groups), state, out);
  if (!seen) return fail(seen.error());
  phases.observe = seconds_since(phase_start);
  CycleReport report;
  report.phases = phases;
  report.haproxy_running = seen->haproxy_running;

  // Unchanged: the same inputs as the last computed cycle, which had nothing to do, and no timed rule of its plan
  // due yet (nor the clock gone back): the planner would decide the same nothing again.
  const CycleFingerprint inputs =
      fingerprint({seen->groups, generation, seen->template_text, seen->current, seen->haproxy_running,
                   seen->actual, seen->cluster, seen->heartbeat_timeouts, state});
  if (!dry_run && last_ && last_->inputs == inputs && now >= last_->at &&
      (!last_->stable_until || now < *last_->stable_until)) {
    report.skipped = true;
    report.plan = last_->plan;
    report.hooks = state.hooks;
    report.groups = std::move(seen->groups);
    report.actual = std::move(seen->actual);
    out.report = std::move(report);
    return out;
  }
  last_.reset();

  if (auto st = derive(*seen, out); !st) return fail(st.error());
  report.groups = seen->groups;
  report.actual = seen->actual;

  // Decide.
  std::optional<core::TimePoint> stable_until;
  {
    const core::PlanInput in = plan_input(*seen, state, now);
    report.plan = core::plan(in);
    stable_until = core::stable_until(in, report.plan);
  }
  if (!report.plan.refusal.empty()) return fail(make_error("IncompleteDiscovery", report.plan.refusal));

  // Render what HAProxy will serve once the plan is applied.
  auto rendered = haproxy::render(
      seen->template_text, seen->template_name, managed_backends(seen->desired, [&](const core::DesiredBackend& d) {
        const core::ActualBackend* a = seen->haproxy_running ? find_actual(seen->actual, d.backend) : nullptr;
        return core::serving_after(d, a, report.plan, seen->template_info.declared_servers);
      }),
      &seen->peers);
  if (!rendered) {
    out.faults.push_back(template_fault(cfg_, rendered.error()));
    return fail(rendered.error());
  }
  report.rendered = std::move(*rendered);
  report.config_changed = seen->current != report.rendered;
  if (dry_run) {  // the caller shows the plan, warnings included
    report.hooks = report.plan.hooks;
    out.report = std::move(report);
    return out;
  }
  for (const auto& w : report.plan.warnings) spdlog::warn("{}", w);

  // Apply (its `haproxy -c` timed apart).
  phase_start = std::chrono::steady_clock::now();
  if (auto st = apply(*seen, report, out); !st) return fail(st.error());
  report.phases.apply = seconds_since(phase_start) - report.phases.validate;
  // A cycle that found nothing to do (and had nothing to say) is the reference the next ones compare with. The
  // state it hands on must be the state it got: otherwise the next cycle's input differs anyway.
  if (report.plan.empty() && report.plan.warnings.empty() && !report.config_changed && report.lifecycle.empty() &&
      out.faults.empty() && out.state == state)
    last_ = Computed{inputs, now, stable_until, report.plan};
  out.report = std::move(report);
  return out;
}

Status Syncer::apply(const Observed& seen, CycleReport& report, CycleOutcome& out) {
  core::SyncState& state = out.state;
  // Validate first: a bad render changes nothing at all.
  bool reloading = seen.haproxy_running && report.plan.reload_needed;
  // The file cannot be written now (a full disk, a read-only directory), but the render is not known to be wrong:
  // the membership still goes through the Runtime API, so that a scale-in is drained rather than left in rotation
  // until its instance dies. The file follows once it can be written.
  bool file_blocked = false;
  const auto validate_start = std::chrono::steady_clock::now();
  if (report.config_changed) {
    // Validated unless only the membership changed since a render that passed (haproxy::admits()), and HAProxy
    // runs (it takes the change through the runtime API; the file is for a later reload, which validates again, or
    // a restart). A reload, or a file HAProxy is about to start from, is always validated.
    haproxy::RenderShape shape = haproxy::shape_of(report.rendered);
    const bool unchecked =
        !reloading && seen.haproxy_running && validated_ && haproxy::admits(*validated_, shape);
    if (auto st = unchecked ? files_.stage_unchecked(report.rendered) : files_.stage(report.rendered); !st) {
      out.faults.push_back(stage_fault(cfg_, st.error()));
      if (st.error().code == "InvalidConfig" || reloading || !seen.haproxy_running) return st;
      file_blocked = true;
    } else {
      out.working.push_back("template");
      report.config_validated = !unchecked;
      if (!unchecked) validated_ = std::move(shape);
    }
  } else if (reloading) {
    // A reload of the file as it is (asked for by the certificate watch, or retried) is validated too: `haproxy -c`
    // loads the certificates, so a broken one cannot take HAProxy down. Only the reload waits then: the membership
    // still goes through the Runtime API, and the reload is tried again by the next cycles.
    if (auto st = files_.stage(report.rendered); !st) {
      if (st.error().code == "InvalidConfig")
        out.faults.push_back({"haproxy.reload",
                              "not reloading HAProxy (" + report.plan.reload_reason + "): " + st.error().message,
                              "fix what `haproxy -c` names (a certificate, the template); the reload is retried "
                              "each cycle, and membership still goes through the runtime API"});
      else
        out.faults.push_back(config_file_fault(cfg_, st.error()));
      reloading = false;
    } else {
      out.working.push_back("template");
      out.working.push_back("haproxy.config_file");
      report.config_validated = true;
      validated_ = haproxy::shape_of(report.rendered);
    }
  } else {
    out.working.push_back("template");  // rendered, and what it renders is the file HAProxy was given
  }
  report.phases.validate = seconds_since(validate_start);
  std::vector<core::Op> haproxy_ops;
  for (const auto& op : report.plan.ops)
    if (!core::is_lifecycle_op(op.kind)) haproxy_ops.push_back(op);
  // Whether the membership goes through the runtime API: always without a reload; with one, only when the master
  // could not be reached (below).
  bool runtime_path = !reloading;
  if (reloading) {
    // The file holds the whole wanted membership; the reload makes HAProxy run it, so no runtime commands.
    if (report.config_changed) {
      if (auto st = files_.install(); !st) {
        out.faults.push_back(config_file_fault(cfg_, st.error()));
        return st;
      }
      report.config_written = true;
      out.working.push_back("haproxy.config_file");
    }
    // From here the file is ahead of HAProxy until a reload succeeds; remembered, so a failed reload is retried
    // by the next cycles instead of being forgotten once the file matches the render.
    // A retry is said when it works: a reload that cannot happen for a while (the master socket gone) would say it at
    // every cycle, and the fault book says the failure once.
    const bool retry = state.reload_pending;
    state.reload_pending = true;
    spdlog::log(retry ? spdlog::level::debug : spdlog::level::info, "reloading HAProxy: {}",
                report.plan.reload_reason);
    if (auto st = haproxy_.reload(); !st) {
      EdgeFault fault = reload_fault(cfg_, st.error());
      out.faults.push_back(fault);
      if (fault.key != "haproxy.master") return st;
      // The master socket is gone or not set: no reload was started, and none can be until the operator acts. The
      // workers run on and their runtime socket answers, so the membership goes on following the group through it
      // (a scale-in drained, not left in rotation until its instance dies); the reload stays pending.
      runtime_path = true;
    } else {
      if (retry) spdlog::info("reloaded HAProxy: {}", report.plan.reload_reason);
      out.working.insert(out.working.end(), {"haproxy.master", "haproxy.reload", "haproxy.runtime"});
      state.reload_pending = false;
      state.reload_requested.clear();
      report.reloaded = true;
      state.drains = report.plan.drains;
    }
  }
  if (runtime_path) {
    if (!seen.haproxy_running) state.reload_requested.clear();  // its next start loads the files as they are
    if (seen.haproxy_running && !haproxy_ops.empty()) {
      for (const auto& op : haproxy_ops) spdlog::info("{}", describe(op));
      auto applied = haproxy_.apply(haproxy_ops);
      if (!applied) {
        // The file is not replaced: the next cycle re-plans from HAProxy's state.
        out.faults.push_back(runtime_fault(
            cfg_, applied.error().message + "; the configuration file is not replaced, and the next cycle re-plans "
                                            "from what HAProxy runs"));
        return applied.error();
      }
      report.runtime_commands = applied->commands;
      report.applied_ops = haproxy_ops;
      // A del HAProxy refused for idle connections still attached: the server is in maintenance with its sessions
      // cut (it serves nothing, so its drain has ended and a hook may complete), and the next cycle deletes it (the
      // plan removes a server in maintenance that is not a member); that delete is the one counted as applied. The
      // next cycle comes within a second.
      std::set<size_t> deferred(applied->deferred.begin(), applied->deferred.end());
      for (size_t i : deferred)
        if (i < haproxy_ops.size())
          spdlog::info("{}/{}: HAProxy still holds idle connections to it, so it stays in maintenance (no traffic) "
                       "and is deleted by the next cycle",
                       haproxy_ops[i].backend, haproxy_ops[i].server);
      if (!deferred.empty()) {
        report.applied_ops.clear();
        for (size_t i = 0; i < haproxy_ops.size(); ++i)
          if (!deferred.contains(i)) report.applied_ops.push_back(haproxy_ops[i]);
        const core::TimePoint soon = core::Clock::now() + std::chrono::seconds(1);
        report.plan.next_due = report.plan.next_due ? std::min(*report.plan.next_due, soon) : soon;
      }
      // Drain times: servers that left the drain book through a Remove sent to HAProxy (a deferred delete too: its
      // traffic ended with it).
      for (const auto& op : haproxy_ops) {
        if (op.kind != core::OpKind::Remove) continue;
        std::string key = core::server_key(op.backend, op.server);
        auto it = state.drains.find(key);
        if (it != state.drains.end())
          report.drains_ended.push_back(
              DrainEnded{key, std::chrono::duration<double>(core::Clock::now() - it->second.since).count()});
      }
    }
    if (seen.haproxy_running) out.working.push_back("haproxy.runtime");
    state.drains = report.plan.drains;
    if (report.config_changed && !file_blocked && !report.config_written) {
      if (auto st = files_.install(); !st) {
        out.faults.push_back(config_file_fault(cfg_, st.error()));
        if (!seen.haproxy_running) return st;  // the file is all there is to do: `once` before a start must fail
      } else {
        report.config_written = true;
        out.working.push_back("haproxy.config_file");
        if (!seen.haproxy_running) spdlog::info("HAProxy is not running: wrote {}", cfg_.haproxy.config_path);
      }
    } else if (!report.config_changed) {
      out.working.push_back("haproxy.config_file");
    }
  }
  // Auto Scaling after HAProxy: a hook is completed only once HAProxy no longer serves the instance.
  apply_lifecycle(report, state, core::Clock::now());
  return Ok{};
}

std::optional<core::TimePoint> Syncer::keep_hooks_alive(core::SyncState& state, core::TimePoint now,
                                                        bool between_cycles) {
  // A failed cycle, discovery's included, decides nothing (completing a hook could let the group kill an instance
  // still served), but an instance draining on our termination hook must not have it expire meanwhile: its
  // heartbeats go out on the same schedule as the planner's, and the loop wakes for the next one even while it
  // backs off.
  if (lifecycle_ == nullptr) return std::nullopt;
  std::optional<core::TimePoint> next;
  bool unreachable = false;  // Auto Scaling did not answer one: the others would each wait their timeout too
  for (auto& [key, h] : state.hooks) {
    if (h.transition != "terminating" || h.completed) continue;
    const auto every = core::heartbeat_every(lifecycle_->heartbeat_timeout(h.group, h.hook));
    core::TimePoint due = h.last_beat + every;
    if (now >= due && unreachable) {
      due = now + kLifecycleRetry;
    } else if (now >= due) {
      const std::string instance = key.substr(key.rfind('/') + 1);
      Status st = lifecycle_->heartbeat(h.group, h.hook, instance);
      if (st || st.error().code == "NoActiveLifecycleAction") {
        h.last_beat = now;
        if (!st) h.completed = true;
        spdlog::info("lifecycle hook {} of {}: heartbeat for {} while cycles fail ({})", h.hook, h.group, instance,
                     between_cycles ? "sent between them" : "sent by a failed cycle");
        due = now + every;
      } else {
        spdlog::log(level_of(st.error()), "lifecycle hook {} of {}: heartbeat for {} failed: {}", h.hook, h.group,
                    instance, st.error().message);
        due = now + kLifecycleRetry;
        unreachable = st.error().code == "ConnectionError" || st.error().code == "RequestTimeout";
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
        spdlog::log(level_of(st.error()), "cluster: recording {} on {} failed, retried next cycle: {}", op.tag_key,
                    op.server, st.error().message);
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
        spdlog::log(level_of(st.error()), "reporting {} of group {} Unhealthy failed, retried next cycle: {}",
                    op.server, op.group, st.error().message);
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
    spdlog::log(level_of(st.error()), "lifecycle hook {} of {}: {} for {} failed, retried in a few seconds: {}",
                op.hook, op.group, complete ? "completion" : "heartbeat", op.server, st.error().message);
    // Retried soon, not at the next interval: a heartbeat that waits an interval may come after the hook expired.
    auto soon = now + kLifecycleRetry;
    if (!report.plan.next_due || soon < *report.plan.next_due) report.plan.next_due = soon;
    if (st.error().code == "ConnectionError" || st.error().code == "RequestTimeout") {
      // AWS unreachable: the rest would each wait their timeout too; the next cycle tries them all again.
      spdlog::debug("lifecycle calls stopped for this cycle: Auto Scaling is not reachable");
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
  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>& backends,
                                                   const std::set<std::string>& sessions_of) override {
    return inner_->servers(backends, sessions_of);
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
