// What the one-shot commands (once, plan, render, status) share: everything a cycle needs, built from the YAML and
// the environment, and how a command reports an error.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "daemon/aws_lifecycle.h"
#include "daemon/cluster_records.h"
#include "daemon/syncer.h"
#include "discovery/aws_discovery.h"
#include "util/result.h"

namespace hasg::cli {

struct Session {
  config::Config cfg;
  std::unique_ptr<discovery::AwsDiscovery> aws;
  std::unique_ptr<daemon::AwsLifecycleControl> lifecycle;  // when a backend owns a lifecycle hook
  std::unique_ptr<daemon::AwsClusterRecords> cluster;      // with `cluster:`
  daemon::SyncEdges edges;

  // One cycle. A dry run (plan, status) starts from the daemon's saved state when there is one (drains in progress,
  // instances waiting on hooks), so it shows what the daemon sees; `once` keeps no state between runs.
  Result<daemon::CycleReport> cycle(bool dry_run);
};

Result<Session> open_session(const std::string& config_path);

// Prints "haproxy-asg CMD: MESSAGE" to stderr; returns 1, the exit code of an error.
int fail(const char* cmd, const Error& e);

}  // namespace hasg::cli
