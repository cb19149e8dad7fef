// Desire (pure): discovered members and the configuration give each managed backend's desired servers.
#pragma once

#include <vector>

#include "config/config.h"
#include "core/types.h"

namespace hasg::daemon {

// One DesiredBackend per configured backend, in config order. A backend whose group was not found, or whose
// discovery was partial (an InService member EC2 did not list), is marked discovery_complete = false, so the
// planner adds what it can and removes nothing.
std::vector<core::DesiredBackend> desire(const config::Config& cfg, const std::vector<core::GroupMembers>& groups);

}  // namespace hasg::daemon
