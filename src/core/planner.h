// The one place that decides what changes. Pure: desired membership, HAProxy's actual servers, the drain book and
// the time in; an ordered plan out. Nothing else compares desired with actual.
#pragma once

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
  std::vector<ActualBackend> actual;
  DrainBook drains;  // from the previous plan
  TimePoint now;
  // Servers that the template declares itself in managed backends: never touched.
  std::set<std::string> unmanaged;  // "backend/server"
  PlannerOptions options;
};

Plan plan(const PlanInput& input);

}  // namespace hasg::core
