// Desire (pure): discovered members and the configured backends give each managed backend's desired servers.
#pragma once

#include <vector>

#include "core/types.h"

namespace hasg::core {

// One DesiredBackend per configured backend, in that order. A backend whose group was not found, or whose
// discovery was partial (an InService member EC2 did not list), is marked discovery_complete = false, so the
// planner adds what it can and removes nothing. Servers carry the ids assign_server_ids() gives them all at once
// (core/server_id.h): the ids of a HAProxy started from the file.
std::vector<DesiredBackend> desire(const std::vector<BackendSpec>& backends, const std::vector<GroupMembers>& groups);

}  // namespace hasg::core
