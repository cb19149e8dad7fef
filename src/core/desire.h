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

// The peers of a cluster (cluster.peers): its group's InService members with a private IPv4 address, and this node
// (`self`) whatever its state, when discovery gave its address (a peers section must name its local peer). Sorted by
// node id; empty when the group was not found.
std::vector<DesiredServer> cluster_peers(const std::vector<GroupMembers>& groups, const std::string& group,
                                         const std::string& self);

}  // namespace hasg::core
