// The control interface under /_sim/: JSON over HTTP onto Simulator's C++ methods (README "Simulator").
#pragma once

#include "sim/simulator.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace hasg::sim {

void serve_control(Simulator& sim, const httplib::Request& req, httplib::Response& res);

}  // namespace hasg::sim
