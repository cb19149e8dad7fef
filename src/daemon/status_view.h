// Per backend and server, the group's view beside HAProxy's: what `haproxy-asg status` prints and `/status`
// serves, built in one place so the two never disagree.
#pragma once

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/syncer.h"

namespace hasg::daemon {

// [{"backend", "group", "haproxy_running", "servers": [{"server", "group": {...}, "haproxy": {...}}]}], servers
// sorted by name; "group" is absent for a server the group does not list, "haproxy" for one HAProxy lacks.
nlohmann::json status_view(const config::Config& cfg, const CycleReport& report);

}  // namespace hasg::daemon
