// once, plan and render: one cycle of the daemon's work, done, described, or only rendered.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "config/config.h"
#include "daemon/aws_lifecycle.h"
#include "daemon/daemon.h"
#include "daemon/haproxy_control.h"
#include "daemon/logging.h"
#include "daemon/state_file.h"
#include "daemon/status_view.h"
#include "daemon/syncer.h"
#include "discovery/aws_discovery.h"
#include "haproxy/renderer.h"

namespace hasg::cli {

namespace {

// Everything a cycle needs, built from the YAML and the environment.
struct Session {
  config::Config cfg;
  std::unique_ptr<discovery::AwsDiscovery> aws;
  std::unique_ptr<daemon::AwsLifecycleControl> lifecycle;  // when a backend owns a lifecycle hook
  std::unique_ptr<daemon::AwsClusterRecords> cluster;      // with `cluster:`
  daemon::SyncEdges edges;

  // One cycle. A dry run (plan, status) starts from the daemon's saved state when there is one (drains in progress,
  // instances waiting on hooks), so it shows what the daemon sees; `once` keeps no state between runs.
  Result<daemon::CycleReport> cycle(bool dry_run) {
    core::SyncState state = dry_run ? daemon::StateFile(cfg.state_file).load() : core::SyncState{};
    return edges.syncer->run(state, dry_run).report;
  }
};

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

nlohmann::json plan_json(const daemon::CycleReport& r) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& op : r.plan.ops) {
    nlohmann::json o = {{"op", core::to_string(op.kind)}, {"backend", op.backend}, {"server", op.server},
                        {"reason", op.reason}};
    if (op.kind == core::OpKind::Add || op.kind == core::OpKind::SetAddress) {
      o["address"] = op.address;
      o["port"] = op.port;
    }
    if (op.kind == core::OpKind::Add && op.hold) o["held"] = true;
    if (core::is_lifecycle_op(op.kind)) {
      o["group"] = op.group;
      o["hook"] = op.hook;
      if (!op.result.empty()) o["result"] = op.result;
    }
    ops.push_back(o);
  }
  return {{"haproxy_running", r.haproxy_running},
          {"ops", ops},
          {"reload", r.plan.reload_needed},
          {"reload_reason", r.plan.reload_reason},
          {"config_changes", r.config_changed},
          {"warnings", r.plan.warnings}};
}

void print_plan(const daemon::CycleReport& r, const std::string& config_path) {
  if (!r.haproxy_running) fmt::print("HAProxy is not running: only the configuration file would be written.\n");
  for (const auto& op : r.plan.ops) {
    std::string what = core::server_key(op.backend, op.server);
    if (op.kind == core::OpKind::Add || op.kind == core::OpKind::SetAddress)
      what += " " + core::endpoint(op.address, op.port);
    if (core::is_lifecycle_op(op.kind)) what = op.group + "/" + op.hook + " " + op.server + " " + op.result;
    fmt::print("{:<12} {:<45} {}\n", core::to_string(op.kind), what, op.reason);
  }
  for (const auto& w : r.plan.warnings) fmt::print("warning: {}\n", w);
  if (r.plan.reload_needed) fmt::print("reload: yes ({})\n", r.plan.reload_reason);
  fmt::print("{}: {}\n", config_path, r.config_changed ? "would be rewritten" : "unchanged");
  if (!r.changes()) fmt::print("nothing to do\n");
}

}  // namespace

int once_command(const CycleArgs& args) {
  daemon::setup_logging("text");
  auto s = open_session(args.config);
  if (!s) return fail("once", s.error());
  auto r = s->cycle(false);
  if (!r) return fail("once", r.error());
  if (args.json) {
    auto j = plan_json(*r);
    j["config_written"] = r->config_written;
    j["reloaded"] = r->reloaded;
    j["runtime_commands"] = r->runtime_commands;
    std::cout << j.dump(2) << "\n";
  } else if (!r->changes()) {
    spdlog::info("nothing changed");
  }
  return 0;
}

int plan_command(const CycleArgs& args) {
  auto s = open_session(args.config);
  if (!s) return fail("plan", s.error());
  auto r = s->cycle(true);
  if (!r) return fail("plan", r.error());
  if (args.json)
    std::cout << plan_json(*r).dump(2) << "\n";
  else
    print_plan(*r, s->cfg.haproxy.config_path);
  return r->changes() ? 2 : 0;
}

int render_command(const CycleArgs& args) {
  auto s = open_session(args.config);
  if (!s) return fail("render", s.error());
  auto text = s->edges.syncer->render_only();
  if (!text) return fail("render", text.error());
  std::cout << *text;
  return 0;
}

}  // namespace hasg::cli

namespace hasg::cli {

int run_command(const CycleArgs& args) {
  auto cfg = config::load_config(args.config);
  if (!cfg) return fail("run", cfg.error());
  daemon::setup_logging(cfg->log_format);
  auto ctx = discovery::AwsDiscovery::from_environment(std::make_unique<aws::ProcessEnvironment>());
  if (!ctx) return fail("run", ctx.error());
  daemon::Daemon d(args.config, *cfg, std::move(*ctx));
  return d.run_with_signals();
}

int status_command(const CycleArgs& args) {
  auto s = open_session(args.config);
  if (!s) return fail("status", s.error());
  auto r = s->cycle(true);
  if (!r) return fail("status", r.error());
  auto view = daemon::status_view(s->cfg, *r);
  if (args.json) {
    std::cout << view.dump(2) << "\n";
    return 0;
  }
  for (const auto& b : view) {
    fmt::print("backend {} <- group {}{}\n", b["backend"].get<std::string>(), b["group"].get<std::string>(),
               b["haproxy_running"].get<bool>() ? "" : " (HAProxy is not running)");
    fmt::print("  {:<21} {:<28} {:<22} {:<6} {:<5} {}\n", "SERVER", "GROUP", "HAPROXY", "ADMIN", "UP", "SESSIONS");
    for (const auto& row : b["servers"]) {
      std::string g = "-", addr = "-", admin = "-", up = "-", sess = "-";
      if (row.contains("group") && row["group"].contains("lifecycle"))
        g = row["group"]["lifecycle"].get<std::string>() + (row["group"]["served"].get<bool>() ? "" : " (not served)");
      if (row.contains("group") && row["group"].contains("hook"))
        g += " hook " + std::to_string(static_cast<long>(row["group"]["hook"]["waiting_seconds"].get<double>())) + "s";
      if (row.contains("haproxy")) {
        const auto& h = row["haproxy"];
        addr = h["address"].get<std::string>();
        admin = h["admin"].get<std::string>();
        up = h["up"].get<bool>() ? "yes" : "no";
        sess = std::to_string(h["sessions"].get<int>());
      }
      fmt::print("  {:<21} {:<28} {:<22} {:<6} {:<5} {}\n", row["server"].get<std::string>(), g, addr, admin, up,
                 sess);
    }
  }
  return 0;
}

}  // namespace hasg::cli
