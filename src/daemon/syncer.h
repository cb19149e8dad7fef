// One sync cycle: observe -> decide -> apply, as DESIGN.md lays it out. Observe gathers the facts (discovery,
// HAProxy's servers, the template and the file); decide is the planner's (core/); apply carries the plan out, in the
// order that keeps the last good state whenever something fails: render and validate first (a bad template or a
// failed `haproxy -c` changes nothing), then the runtime commands (or the reload, for a structural change), then
// the file, so a later reload or restart reproduces the membership.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/planner.h"
#include "core/types.h"
#include "daemon/cluster_records.h"
#include "daemon/cycle_fingerprint.h"
#include "daemon/haproxy_control.h"
#include "daemon/lifecycle_control.h"
#include "discovery/provider.h"
#include "haproxy/renderer.h"

namespace hasg::daemon {

// A lifecycle op applied this cycle: "ok", "already" (no active action: someone else completed it), or the error
// code of a failure (retried by the next cycles).
struct LifecycleResult {
  core::Op op;
  std::string outcome;
};

// A drain that ended this cycle with its server's removal, and how long it lasted.
struct DrainEnded {
  std::string key;  // "backend/server"
  double seconds = 0;
};

struct CycleReport {
  std::vector<core::GroupMembers> groups;   // what discovery saw
  bool haproxy_running = false;
  core::Plan plan;
  std::string rendered;                     // the configuration this cycle wants on disk
  bool config_changed = false;              // rendered differs from the current file
  bool config_written = false;
  bool config_validated = false;            // `haproxy -c` ran on it (a membership-only change needs none)
  bool reloaded = false;
  size_t runtime_commands = 0;
  std::vector<core::Op> applied_ops;        // sent through the Runtime API (none when a reload did the work)
  std::vector<core::ActualBackend> actual;  // HAProxy's view before the plan (empty when not running)
  std::vector<DrainEnded> drains_ended;     // servers removed this cycle after a drain the state recorded
  std::vector<LifecycleResult> lifecycle;   // lifecycle hook ops applied (after HAProxy's)
  core::HookBook hooks;                     // the hook book after this cycle (completions included)
  // Nothing had changed since the last computed cycle, which had nothing to do: desire, plan, render and apply were
  // skipped (plan is that cycle's, rendered is empty).
  bool skipped = false;
  // Where the cycle's time went, in seconds (a cycle longer than its interval is logged with them): discovery (Auto
  // Scaling and EC2); reading HAProxy's state, the files and the cluster's drain records; deciding whether the render
  // needs `haproxy -c`, and running it; carrying out the plan (runtime commands, a reload, lifecycle calls). The
  // rest (plan, render) is the cycle's own computing.
  struct Phases {
    double discover = 0;
    double observe = 0;
    double validate = 0;
    double apply = 0;
  } phases;

  // Anything to do? (what `plan` exits 2 for)
  bool changes() const { return config_changed || !plan.empty(); }
};

// A fault at one HAProxy or file edge, as a cycle saw it: the daemon books it (FaultBook) under `key`, so it is
// logged once when it starts and once when it ends, and /healthz names it. Keys (README, "Faults and what
// haproxy-asg does"): "haproxy.runtime" (the runtime socket: absent, refusing, or a command failed), "haproxy.master"
// (the master socket does not answer a reload), "haproxy.reload" (a reload failed, or was not tried because the file
// fails `haproxy -c`), "haproxy.config_file" (the configuration file cannot be read or written), "template" (the
// template cannot be read, parsed or rendered, or its render fails `haproxy -c`).
struct EdgeFault {
  std::string key;
  std::string message;
  std::string remedy;
};

// What a cycle gives back: its report or the error that ended it, and the state for the next cycle (also after a
// failure: a reload that failed stays pending).
struct CycleOutcome {
  Result<CycleReport> report;
  core::SyncState state;
  bool discovery_ok = false;  // a cycle can also fail later, at HAProxy or the file
  // After a failure: when a heartbeat of a draining instance's hook is next due (the loop wakes for it).
  std::optional<core::TimePoint> next_due;
  // The edges seen failing this cycle (the error that ended it among them, when an edge's), and the keys of the
  // edges seen working (their faults are over). An edge the cycle did not reach is in neither.
  std::vector<EdgeFault> faults;
  std::vector<std::string> working;
};

class Syncer {
 public:
  // `lifecycle` may be null when no backend owns a lifecycle hook (then no hook op is ever planned); `cluster` is
  // null without `cluster:` (with it and null, the cluster's records are never readable: hooks wait their timeout).
  Syncer(config::Config cfg, discovery::Provider& provider, HaproxyControl& haproxy, ConfigFiles& files,
         LifecycleControl* lifecycle = nullptr, ClusterRecords* cluster = nullptr);

  // One cycle from `state`. With `dry_run`, nothing is written, applied or reloaded: the report says what would be,
  // and the state comes back unchanged.
  CycleOutcome run(const core::SyncState& state, bool dry_run, core::TimePoint now = core::Clock::now());

  // The rendered configuration for the current discovery, with no HAProxy involved (`render`).
  Result<std::string> render_only();

  // While cycles fail: sends the heartbeats due of the hooks of instances draining on our termination hook (a
  // failed one is retried in 5 s) and says when the next is due. A failed cycle does it before it ends; the daemon
  // calls it alone (`between_cycles`, logged as such) when one comes due during the failure backoff, so that keeping
  // a hook alive does not ask AWS for discovery again (what the backoff holds back).
  std::optional<core::TimePoint> keep_hooks_alive(core::SyncState& state, core::TimePoint now,
                                                  bool between_cycles = false);

  const config::Config& config() const { return cfg_; }

 private:
  struct Observed;
  Result<Observed> gather(std::vector<core::GroupMembers> groups, const core::SyncState& state, CycleOutcome& out);
  Status derive(Observed& seen, CycleOutcome& out) const;
  core::PlanInput plan_input(const Observed& seen, const core::SyncState& state, core::TimePoint now) const;
  Status apply(const Observed& seen, CycleReport& report, CycleOutcome& out);
  void apply_lifecycle(CycleReport& report, core::SyncState& state, core::TimePoint now);
  core::ClusterView cluster_view(const std::vector<core::GroupMembers>& groups);
  void log_refused(const std::vector<core::GroupMembers>& groups);

  config::Config cfg_;
  discovery::Provider& provider_;
  HaproxyControl& haproxy_;
  ConfigFiles& files_;
  LifecycleControl* lifecycle_;
  // Values from AWS refused by discovery, (group, value) as last seen: each is logged when it first appears.
  std::set<std::pair<std::string, core::RefusedValue>> refused_values_;
  ClusterRecords* cluster_;
  // The last computed cycle that had nothing to do: its inputs' fingerprint, its time, until when its plan holds
  // (core::stable_until) and the plan.
  struct Computed {
    CycleFingerprint inputs;
    core::TimePoint at;
    std::optional<core::TimePoint> stable_until;
    core::Plan plan;
  };
  std::optional<Computed> last_;
  // The shape of the last render `haproxy -c` accepted (in this process: a file edited by hand is never trusted).
  std::optional<haproxy::RenderShape> validated_;
  bool peers_self_missing_ = false;  // cluster.peers: this node was not among the peers at the last cycle
  bool cluster_group_missing_ = false;  // cluster.group was not found at the last cycle
};

// Everything a cycle touches, built from the configuration: the HAProxy edges and the syncer over them. The one
// place a Syncer is built (the daemon, its SIGHUP, and the one-shot commands).
struct SyncEdges {
  std::unique_ptr<HaproxyControl> control;
  std::unique_ptr<ConfigFiles> files;
  std::unique_ptr<Syncer> syncer;
};
// `around_reload`, when given, is called just before (true) and just after (false) every reload: the CloudWatch
// publisher follows the outgoing worker's counters meanwhile.
using ReloadNotice = std::function<void(bool before)>;
SyncEdges make_sync_edges(const config::Config& cfg, discovery::Provider& provider,
                          LifecycleControl* lifecycle = nullptr, ReloadNotice around_reload = {},
                          ClusterRecords* cluster = nullptr);

}  // namespace hasg::daemon
