// The one place that decides what changes. Pure: desired membership, HAProxy's actual servers (or the fact that it
// is not running), the state carried from the last cycle, the facts about the configuration file and the time in;
// an ordered plan out, with whether to reload and whether the cycle must stop. Nothing else compares desired with
// actual or decides a reload.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/types.h"

namespace hasg::core {

struct PlannerOptions {
  // One cycle never starts draining more than this share of a backend's serving servers (at least one a cycle,
  // so a real scale-in still completes, just over several cycles), unless `unlimited_removal`.
  double max_remove_fraction = 0.5;
  bool unlimited_removal = false;
};

struct PlanInput {
  std::vector<DesiredBackend> desired;
  // HAProxy's view. Without it (not running) nothing is planned but the file, and nothing is reloaded.
  bool haproxy_running = true;
  std::vector<ActualBackend> actual;
  DrainBook drains;  // from the previous plan
  HookBook hooks;    // from the previous cycle (with the applier's completions and heartbeats)
  std::map<std::string, TimePoint> down_since;  // health feedback, from the previous cycle
  std::set<std::string> reported;               // health feedback: "group/instance" reported and still members
  ClusterView cluster;                          // the other load balancers and their drain records
  // The daemon's polling interval: another node may see a lifecycle wait up to about one interval later than this
  // one (at once with events), so waiting for it is bounded by the drain timeout plus twice this.
  std::chrono::milliseconds poll_interval{0};
  // Facts about the configuration file, established by the caller: the template rendered for the current settings
  // differs in structure (anything but the managed server lines) from the file HAProxy runs; there is no file yet;
  // a structural change was written whose reload has not succeeded yet.
  bool structure_changed = false;
  bool config_missing = false;
  bool reload_pending = false;
  std::string reload_requested;  // an edge asked for a reload, for this reason (SyncState::reload_requested)
  TimePoint now;
  // Servers that the template declares itself in managed backends: never touched.
  std::set<std::string> unmanaged;  // "backend/server"
  PlannerOptions options;
};

Plan plan(const PlanInput& input);

// Until when `input` at a later time gives this same `plan` (made from it): the earliest time a timed rule could
// change it (next_due, or a kept drain's timeout); none when no rule depends on the time. A plan with ops may still
// differ before then in its reasons' texts ("draining for 12s"): the syncer relies on it only for a plan with
// nothing to do whose state out equals its state in, to skip an unchanged cycle.
std::optional<TimePoint> stable_until(const PlanInput& input, const Plan& plan);

}  // namespace hasg::core
