#include "cli/session.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "daemon/state_file.h"

namespace hasg::cli {

Result<daemon::CycleReport> Session::cycle(bool dry_run) {
  core::SyncState state = dry_run ? daemon::StateFile(cfg.state_file).load() : core::SyncState{};
  auto out = edges.syncer->run(state, dry_run);
  // The daemon books these as faults; a one-shot run says them once (HAProxy not running is what `once` before
  // HAProxy's start expects, and `plan` prints it).
  if (out.report && !dry_run)
    for (const auto& f : out.faults)
      if (f.key != "haproxy.runtime") spdlog::error("{}: {} ({})", f.key, f.message, f.remedy);
  return std::move(out.report);
}

Result<Session> open_session(const std::string& config_path) {
  Session s;
  auto cfg = config::load_config(config_path);
  if (!cfg) return cfg.error();
  s.cfg = *cfg;
  auto ctx = discovery::AwsDiscovery::from_environment(std::make_unique<aws::ProcessEnvironment>());
  if (!ctx) return ctx.error();
  s.aws = std::move(*ctx);
  if (daemon::uses_group_calls(s.cfg))
    s.lifecycle = std::make_unique<daemon::AwsLifecycleControl>(s.aws->aws().lifecycle());
  if (s.cfg.cluster.enabled()) {
    if (auto st = daemon::resolve_node_id(s.cfg, s.aws->aws()); !st)
      std::cerr << "haproxy-asg: cluster: this instance's id is unknown: " << st.error().message << "\n";
    s.cluster = std::make_unique<daemon::AwsClusterRecords>(s.aws->aws().discovery_ec2());
  }
  s.edges = daemon::make_sync_edges(s.cfg, s.aws->provider(), s.lifecycle.get(), {}, s.cluster.get());
  return s;
}

int fail(const char* cmd, const Error& e) {
  std::cerr << "haproxy-asg " << cmd << ": " << e.message << "\n";
  return 1;
}

}  // namespace hasg::cli
