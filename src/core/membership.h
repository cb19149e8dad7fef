// What each managed backend serves once a plan is applied: the membership the rendered configuration file must
// hold, so that a reload or restart of HAProxy reproduces exactly what the runtime API made (servers held back by
// the removal cap included, draining ones excluded).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/types.h"

namespace hasg::core {

// Servers of `desired.backend` that are in rotation after `plan` is applied to `actual` (null when HAProxy does not
// run or lacks the backend: then simply the desired servers). Sorted by name; `unmanaged` servers are left out
// (the template writes them itself). Each keeps the numeric id HAProxy has for it when that is a stable one
// (core/server_id.h); one with another id, e.g. added by an older version, gets a free stable id for the file.
std::vector<DesiredServer> serving_after(const DesiredBackend& desired, const ActualBackend* actual, const Plan& plan,
                                         const std::set<std::string>& unmanaged);

}  // namespace hasg::core
