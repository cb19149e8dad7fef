#include "daemon/syncer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "core/membership.h"
#include "daemon/desire.h"
#include "haproxy/renderer.h"

namespace hasg::daemon {

namespace {

std::vector<haproxy::ManagedBackend> managed_backends(const config::Config& cfg,
                                                      const std::vector<core::DesiredBackend>& desired,
                                                      const std::vector<std::vector<core::DesiredServer>>& serving) {
  std::vector<haproxy::ManagedBackend> out;
  for (size_t i = 0; i < desired.size(); ++i) {
    const auto& b = cfg.backends[i];
    out.push_back(haproxy::ManagedBackend{b.backend, b.group, b.port, b.server_options, serving[i]});
  }
  return out;
}

const core::ActualBackend* find_actual(const std::vector<core::ActualBackend>& actual, const std::string& name) {
  auto it = std::find_if(actual.begin(), actual.end(), [&](const auto& a) { return a.backend == name; });
  return it == actual.end() ? nullptr : &*it;
}

std::string describe(const core::Op& op) {
  std::string s = std::string(core::to_string(op.kind)) + " " + core::server_key(op.backend, op.server);
  if (op.kind == core::OpKind::Add || op.kind == core::OpKind::SetAddress)
    s += " " + core::endpoint(op.address, op.port);
  return s + " (" + op.reason + ")";
}

}  // namespace

Syncer::Syncer(config::Config cfg, discovery::Provider& provider, HaproxyControl& haproxy, ConfigFiles& files)
    : cfg_(std::move(cfg)), provider_(provider), haproxy_(haproxy), files_(files) {}

Result<std::vector<core::GroupMembers>> Syncer::discover() { return provider_.discover(cfg_.groups()); }

Result<std::string> Syncer::render_only() {
  auto groups = discover();
  if (!groups) return groups.error();
  auto tmpl = files_.read_template();
  if (!tmpl) return tmpl.error();
  auto desired = desire(cfg_, *groups);
  std::vector<std::vector<core::DesiredServer>> serving;
  for (const auto& d : desired) serving.push_back(d.servers);
  return haproxy::render(*tmpl, std::filesystem::path(cfg_.haproxy.template_path).filename().string(),
                         managed_backends(cfg_, desired, serving));
}

Result<CycleReport> Syncer::run(bool dry_run, core::TimePoint now) {
  CycleReport report;

  // Discover. A failed discovery ends the cycle here: nothing may be concluded from it.
  auto groups = discover();
  discovery_ok_ = groups.ok();
  if (!groups) return groups.error();
  report.groups = *groups;
  auto desired = desire(cfg_, report.groups);

  auto tmpl = files_.read_template();
  if (!tmpl) return tmpl.error();
  const std::string template_name = std::filesystem::path(cfg_.haproxy.template_path).filename().string();
  auto info = haproxy::inspect_template(*tmpl, template_name);
  if (!info) return info.error();

  // Observe.
  std::vector<std::string> names;
  for (const auto& b : cfg_.backends) names.push_back(b.backend);
  auto actual = haproxy_.servers(names);
  if (!actual && actual.error().code != "HaproxyNotRunning") return actual.error();
  report.haproxy_running = actual.ok();
  if (actual) report.actual = *actual;

  // Plan (only when HAProxy runs: otherwise there is nothing to change but the file).
  if (report.haproxy_running) {
    core::PlanInput in;
    in.desired = desired;
    in.actual = report.actual;
    in.drains = drains_;
    in.now = now;
    in.unmanaged = info->declared_servers;
    in.options.max_remove_fraction = cfg_.max_remove_fraction;
    report.plan = core::plan(in);
  }

  // A backend whose discovery was incomplete may only keep what HAProxy already serves. Without HAProxy's view
  // (not running, or lacking the backend) there is nothing to keep it from: writing the desired servers alone
  // could empty the backend, so the cycle stops here and the current file stays.
  for (const auto& d : desired) {
    if (d.discovery_complete) continue;
    const core::ActualBackend* a = report.haproxy_running ? find_actual(report.actual, d.backend) : nullptr;
    if (a == nullptr || !a->exists)
      return make_error("IncompleteDiscovery",
                        "group " + d.group + " of backend " + d.backend +
                            " was not found or not fully described, and HAProxy does not serve that backend now: "
                            "not writing a configuration that could leave it empty");
  }

  // Render what HAProxy will serve once the plan is applied.
  std::vector<std::vector<core::DesiredServer>> serving;
  for (const auto& d : desired)
    serving.push_back(core::serving_after(d, report.haproxy_running ? find_actual(report.actual, d.backend) : nullptr,
                                          report.plan, info->declared_servers));
  auto rendered = haproxy::render(*tmpl, template_name, managed_backends(cfg_, desired, serving));
  if (!rendered) return rendered.error();
  report.rendered = *rendered;
  auto current = files_.read_current();
  if (!current) return current.error();
  report.config_changed = *current != report.rendered;
  if (report.haproxy_running && !report.plan.reload_needed) {
    if (report.config_changed && haproxy::structure_of(*current) != haproxy::structure_of(report.rendered)) {
      report.plan.reload_needed = true;
      report.plan.reload_reason =
          current->empty() ? "no configuration file yet" : "the configuration's structure changed";
    } else if (reload_pending_) {
      // The file already holds a structural change whose reload failed: try the reload again.
      report.plan.reload_needed = true;
      report.plan.reload_reason = "a previous reload did not complete";
    }
  }
  if (dry_run) return report;  // the caller shows the plan, warnings included
  for (const auto& w : report.plan.warnings) spdlog::warn("{}", w);

  // Apply. Validate first: a bad render changes nothing at all.
  if (report.config_changed) {
    if (auto st = files_.stage(report.rendered); !st) return st.error();
  }
  if (report.haproxy_running && report.plan.reload_needed) {
    // The file holds the whole wanted membership; the reload makes HAProxy run it, so no runtime commands.
    if (report.config_changed) {
      if (auto st = files_.install(); !st) return st.error();
      report.config_written = true;
    }
    // From here the file is ahead of HAProxy until a reload succeeds; remembered, so a failed reload is retried
    // by the next cycles instead of being forgotten once the file matches the render.
    reload_pending_ = true;
    spdlog::info("reloading HAProxy: {}", report.plan.reload_reason);
    if (auto st = haproxy_.reload(); !st) return st.error();
    reload_pending_ = false;
    report.reloaded = true;
    drains_ = report.plan.drains;
    return report;
  }
  if (report.haproxy_running && !report.plan.ops.empty()) {
    for (const auto& op : report.plan.ops) spdlog::info("{}", describe(op));
    auto applied = haproxy_.apply(report.plan.ops);
    if (!applied) return applied.error();  // the file is not replaced: the next cycle re-plans from HAProxy's state
    report.runtime_commands = applied->commands;
    report.applied_ops = report.plan.ops;
  }
  drains_ = report.plan.drains;
  if (report.config_changed) {
    if (auto st = files_.install(); !st) return st.error();
    report.config_written = true;
    if (!report.haproxy_running) spdlog::info("HAProxy is not running: wrote {}", cfg_.haproxy.config_path);
  }
  return report;
}

}  // namespace hasg::daemon
