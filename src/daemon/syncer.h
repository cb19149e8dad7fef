// One sync cycle: discover -> desire -> observe -> plan -> apply, as DESIGN.md lays it out. The planner decides;
// this carries the plan out, in the order that keeps the last good state whenever something fails:
// render and validate first (a bad template or a failed `haproxy -c` changes nothing), then the runtime commands
// (or the reload, for a structural change), then the file, so a later reload or restart reproduces the membership.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/planner.h"
#include "core/types.h"
#include "daemon/haproxy_control.h"
#include "discovery/provider.h"

namespace hasg::daemon {

struct CycleReport {
  std::vector<core::GroupMembers> groups;   // what discovery saw
  bool haproxy_running = false;
  core::Plan plan;
  std::string rendered;                     // the configuration this cycle wants on disk
  bool config_changed = false;              // rendered differs from the current file
  bool config_written = false;
  bool reloaded = false;
  size_t runtime_commands = 0;
  std::vector<core::Op> applied_ops;        // sent through the Runtime API (none when a reload did the work)
  std::vector<core::ActualBackend> actual;  // HAProxy's view before the plan (empty when not running)

  // Anything to do? (what `plan` exits 2 for)
  bool changes() const { return config_changed || !plan.empty(); }
};

class Syncer {
 public:
  Syncer(config::Config cfg, discovery::Provider& provider, HaproxyControl& haproxy, ConfigFiles& files);

  // One cycle. With `dry_run`, nothing is written, applied or reloaded: the report says what would be.
  // An Error leaves HAProxy and the file as they were before the failing step (see the header comment).
  Result<CycleReport> run(bool dry_run, core::TimePoint now = core::Clock::now());

  // The rendered configuration for the current discovery, with no HAProxy involved (`render`).
  Result<std::string> render_only();

  void set_config(config::Config cfg) { cfg_ = std::move(cfg); }
  const config::Config& config() const { return cfg_; }
  const core::DrainBook& drains() const { return drains_; }
  void set_drains(core::DrainBook drains) { drains_ = std::move(drains); }
  // True while the file holds a structural change HAProxy has not reloaded yet (kept in the state file).
  bool reload_pending() const { return reload_pending_; }
  // Whether the last cycle's discovery succeeded (a cycle can also fail later, at HAProxy or the file).
  bool discovery_ok() const { return discovery_ok_; }
  void set_reload_pending(bool pending) { reload_pending_ = pending; }

 private:
  Result<std::vector<core::GroupMembers>> discover();

  config::Config cfg_;
  discovery::Provider& provider_;
  HaproxyControl& haproxy_;
  ConfigFiles& files_;
  core::DrainBook drains_;
  bool reload_pending_ = false;
  bool discovery_ok_ = false;
};

}  // namespace hasg::daemon
