// Shared by integration tests: an embedded simulator and the environment that points haproxy-asg (or awscli) at
// it, loopback only, with IMDS disabled unless a test asks for it.
#pragma once

#include <string>

#include "sim/simulator.h"
#include "support/process.h"

namespace hasg::test {

inline EnvOverrides sim_env(const sim::Simulator& sim) {
  return {{"AWS_ENDPOINT_URL", sim.url()},
          {"AWS_REGION", sim.options().region},
          {"AWS_ACCESS_KEY_ID", sim.options().access_key_id},
          {"AWS_SECRET_ACCESS_KEY", sim.options().secret_access_key},
          {"AWS_SESSION_TOKEN", ""},
          {"AWS_PROFILE", ""},
          {"AWS_DEFAULT_REGION", ""},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          // No user's ~/.aws files: the chain must find exactly what the test gives it.
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"},
          {"AWS_CONFIG_FILE", "/nonexistent/config"}};
}

}  // namespace hasg::test
