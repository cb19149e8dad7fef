// IMDSv2 as an instance sees it (token, region, zone, instance id, the role's temporary credentials, which the
// simulated APIs then accept), on the simulator's port under /latest/.
#pragma once

#include "sim/sim_state.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace hasg::sim {

void serve_imds(SimState& state, const httplib::Request& req, httplib::Response& res);

}  // namespace hasg::sim
