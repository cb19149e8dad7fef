#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

namespace hasg::cli {

namespace {
int dispatch(int argc, char** argv);
}  // namespace

int run(int argc, char** argv) {
  // Errors are values everywhere; this catch is the last guard against a library throwing (a bad_alloc, a
  // json type error) so that the process still says what happened and exits 1 instead of aborting.
  try {
    return dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "haproxy-asg: internal error: " << e.what() << "\n";
    return 1;
  }
}

namespace {

int dispatch(int argc, char** argv) {
  CLI::App app{"haproxy-asg: keeps HAProxy backends equal to EC2 Auto Scaling groups"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "haproxy-asg 0.1.0");

  DiscoverArgs discover;
  auto* d = app.add_subcommand("discover", "list a group's members as the daemon sees them");
  d->add_option("--group", discover.groups, "Auto Scaling group name (repeatable)")->required();
  d->add_flag("--json", discover.json, "machine-readable output");

  CycleArgs once, plan, render;
  auto* o = app.add_subcommand("once", "run one cycle (discover, plan, apply), then exit; when HAProxy is not "
                                       "running, only write the rendered configuration");
  o->add_option("--config", once.config, "the YAML configuration")->required();
  o->add_flag("--json", once.json, "print what was done as JSON");
  auto* p = app.add_subcommand("plan", "print what a cycle would change, changing nothing; exit 0 when nothing "
                                       "would change, 2 when something would, 1 on error");
  p->add_option("--config", plan.config, "the YAML configuration")->required();
  p->add_flag("--json", plan.json, "machine-readable output");
  auto* r = app.add_subcommand("render", "print the configuration file a cycle would write");
  r->add_option("--config", render.config, "the YAML configuration")->required();

  CycleArgs run;
  auto* rn = app.add_subcommand("run", "the daemon: a cycle every interval, until SIGTERM; SIGHUP re-reads the YAML");
  rn->add_option("--config", run.config, "the YAML configuration")->required();
  StatusArgs status;
  auto* st = app.add_subcommand("status", "per backend and server, the group's view beside HAProxy's");
  auto* st_config = st->add_option("--config", status.config, "the YAML configuration (reads the group and HAProxy)");
  auto* st_url = st->add_option("--url", status.url, "a running daemon's /status, e.g. http://127.0.0.1:9717/status");
  st_config->excludes(st_url);
  st->add_flag("--json", status.json, "machine-readable output");
  auto* st_watch = st->add_flag("--watch", status.watch, "refresh the screen until Ctrl-C (SIGINT) or SIGTERM");
  st->add_option("--interval", status.interval_s, "seconds between refreshes with --watch")
      ->check(CLI::Range(0.1, 3600.0))
      ->needs(st_watch);
  st->add_option("--count", status.count, "with --watch, stop after this many refreshes")
      ->check(CLI::NonNegativeNumber)
      ->needs(st_watch);
  st_watch->excludes("--json");

  DoctorArgs doctor;
  auto* dr = app.add_subcommand("doctor", "check HAProxy, the system's limits and AWS for what haproxy-asg needs, "
                                          "each with its fix; exit 0 when nothing failed");
  dr->add_option("--config", doctor.config,
                 "the YAML configuration (default: /etc/haproxy-asg/haproxy-asg.yaml when it exists)");
  dr->add_flag("--json", doctor.json, "machine-readable output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 1, like every other error (plan keeps 2 for "changes").
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (rn->parsed()) return run_command(run);
  if (st->parsed()) {
    if (status.config.empty() && status.url.empty()) {
      std::cerr << "haproxy-asg status: --config or --url is required\nRun with --help for more information.\n";
      return 1;
    }
    return status_command(status);
  }
  if (d->parsed()) return discover_command(discover);
  if (o->parsed()) return once_command(once);
  if (p->parsed()) return plan_command(plan);
  if (r->parsed()) return render_command(render);
  if (dr->parsed()) return doctor_command(doctor);
  return 2;
}

}  // namespace

}  // namespace hasg::cli
