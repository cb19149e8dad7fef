#include "daemon/daemon.h"

#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "daemon/http_endpoint.h"
#include "daemon/status_view.h"
#include "util/backoff.h"
#include "util/files.h"

namespace hasg::daemon {

namespace {

constexpr int kUnhealthyAfterIntervals = 3;
constexpr auto kMaxBackoff = std::chrono::seconds(60);

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Daemon::Daemon(std::string config_path, config::Config cfg, std::unique_ptr<discovery::AwsDiscovery> aws)
    : config_path_(std::move(config_path)), cfg_(std::move(cfg)), aws_(std::move(aws)) {
  control_ = make_socket_control(cfg_.haproxy);
  files_ = make_disk_files(cfg_.haproxy);
  syncer_ = std::make_unique<Syncer>(cfg_, aws_->provider(), *control_, *files_);
  started_ = std::chrono::steady_clock::now();
  declare_metrics();
  load_state();
}

Daemon::~Daemon() = default;

void Daemon::declare_metrics() {
  metrics_.histogram("haproxy_asg_cycle_duration_seconds", "Duration of a sync cycle.",
                     {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  metrics_.counter("haproxy_asg_cycles_total", "Sync cycles by outcome (ok, error).");
  metrics_.counter("haproxy_asg_errors_total", "Failed cycles by error code.");
  metrics_.gauge("haproxy_asg_servers", "Servers of each managed backend by admin state, as HAProxy reports them.");
  metrics_.gauge("haproxy_asg_group_members", "Members of each group, served or not.");
  metrics_.counter("haproxy_asg_operations_total", "Planned operations applied, by kind.");
  metrics_.counter("haproxy_asg_runtime_commands_total", "Runtime API commands sent to HAProxy.");
  metrics_.counter("haproxy_asg_reloads_total", "Reloads of HAProxy through the master CLI.");
  metrics_.counter("haproxy_asg_config_writes_total", "Rewrites of the rendered configuration file.");
  metrics_.histogram("haproxy_asg_drain_seconds", "Time from the start of a drain to the server's removal.",
                     {0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600});
  metrics_.gauge("haproxy_asg_last_success_timestamp_seconds", "Unix time of the last successful cycle.");
  metrics_.gauge("haproxy_asg_discovery_ok", "1 when the last discovery succeeded, else 0.");
  metrics_.counter("haproxy_asg_aws_calls_total", "AWS API calls by operation and outcome (retries included once).");
}

void Daemon::load_state() {
  if (cfg_.state_file.empty()) return;
  auto text = read_text_file(cfg_.state_file);
  if (!text) {
    if (text.error().code != "NotFound") spdlog::warn("state file: {}", text.error().message);
    return;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("drains") || !j["drains"].is_object()) {
    spdlog::warn("state file {} is not what haproxy-asg writes; starting without it", cfg_.state_file);
    return;
  }
  core::DrainBook book;
  for (const auto& [key, since] : j["drains"].items()) {
    if (!since.is_number_integer()) {
      spdlog::warn("state file {}: drain of {} has no valid start time; ignored", cfg_.state_file, key);
      continue;
    }
    book[key] = core::DrainRecord{core::TimePoint(std::chrono::milliseconds(since.get<int64_t>()))};
  }
  syncer_->set_drains(book);
  syncer_->set_reload_pending(j.value("reload_pending", false) == true);
  saved_drains_ = book;
  saved_reload_pending_ = syncer_->reload_pending();
}

void Daemon::save_state() {
  if (cfg_.state_file.empty()) return;
  core::DrainBook drains = syncer_->drains();
  bool pending = syncer_->reload_pending();
  // Loop thread only (like the syncer), and never under mu_: two fsyncs on a slow disk must not stall /healthz
  // and /metrics.
  if (drains == saved_drains_ && pending == saved_reload_pending_) return;
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, rec] : drains)
    j[key] = std::chrono::duration_cast<std::chrono::milliseconds>(rec.since.time_since_epoch()).count();
  std::string text = nlohmann::json{{"drains", j}, {"reload_pending", pending}}.dump() + "\n";
  if (auto st = write_file_atomic(cfg_.state_file, text); !st) {
    spdlog::warn("cannot save state: {}", st.error().message);
    return;
  }
  saved_drains_ = std::move(drains);
  saved_reload_pending_ = pending;
}

void Daemon::record_report(const CycleReport& r, double seconds) {
  metrics_.observe("haproxy_asg_cycle_duration_seconds", {}, seconds);
  metrics_.inc("haproxy_asg_cycles_total", {{"outcome", "ok"}});
  metrics_.set("haproxy_asg_last_success_timestamp_seconds", {},
               std::chrono::duration<double>(core::Clock::now().time_since_epoch()).count());
  metrics_.set("haproxy_asg_discovery_ok", {}, 1);
  for (const auto& op : r.applied_ops) metrics_.inc("haproxy_asg_operations_total", {{"op", core::to_string(op.kind)}});
  metrics_.inc("haproxy_asg_runtime_commands_total", {}, static_cast<double>(r.runtime_commands));
  if (r.reloaded) metrics_.inc("haproxy_asg_reloads_total");
  if (r.config_written) metrics_.inc("haproxy_asg_config_writes_total");

  // Servers by backend and state as HAProxy reported them at the start of this cycle (one cycle behind the plan
  // just applied, never wrong about what HAProxy said).
  metrics_.clear("haproxy_asg_servers");
  for (const auto& be : r.actual) {
    std::map<std::string, int> counts = {{"ready", 0}, {"drain", 0}, {"maint", 0}};
    for (const auto& s : be.servers) ++counts[core::to_string(s.admin)];
    for (const auto& [state, n] : counts) metrics_.set("haproxy_asg_servers", {{"backend", be.backend}, {"state", state}}, n);
  }
  metrics_.clear("haproxy_asg_group_members");
  for (const auto& g : r.groups) {
    int served = 0;
    for (const auto& m : g.members) served += m.served ? 1 : 0;
    metrics_.set("haproxy_asg_group_members", {{"group", g.group}, {"served", "true"}}, served);
    metrics_.set("haproxy_asg_group_members", {{"group", g.group}, {"served", "false"}},
                 static_cast<double>(g.members.size()) - served);
  }
}

std::string Daemon::render_metrics() {
  // AWS call counters live in the Query clients; copied at scrape time.
  for (const auto& [key, n] : aws_->stats().calls()) {
    uint64_t& seen = aws_calls_seen_[key];
    if (n > seen)
      metrics_.inc("haproxy_asg_aws_calls_total", {{"operation", key.first}, {"outcome", key.second}},
                   static_cast<double>(n - seen));
    seen = n;
  }
  return metrics_.render();
}

void Daemon::cycle() {
  auto start = std::chrono::steady_clock::now();
  auto before = syncer_->drains();
  auto report = syncer_->run(false);
  double secs = seconds_since(start);
  // A cycle allocates a few MB at 5,000 instances (AWS's XML, HAProxy's state, the rendered file) and then sleeps
  // for an interval: give the freed pages back instead of keeping them resident until the next cycle.
  malloc_trim(0);
  save_state();  // also after a failure: a reload that failed must stay pending across a restart
  std::lock_guard lock(mu_);
  if (report) {
    // Drain times: servers that left the drain book through a Remove sent to HAProxy.
    for (const auto& op : report->applied_ops) {
      if (op.kind != core::OpKind::Remove) continue;
      auto it = before.find(core::server_key(op.backend, op.server));
      if (it != before.end())
        metrics_.observe("haproxy_asg_drain_seconds", {},
                         std::chrono::duration<double>(core::Clock::now() - it->second.since).count());
    }
    record_report(*report, secs);
    if (failures_ > 0) spdlog::info("cycle succeeded again after {} failure(s)", failures_);
    failures_ = 0;
    last_error_.clear();
    last_discovery_ok_ = std::chrono::steady_clock::now();
    report->rendered = std::string();  // /status needs the views, not the ~80 bytes a server of rendered text
    last_report_ = std::move(*report);
  } else {
    ++failures_;
    last_error_ = report.error().message;
    metrics_.observe("haproxy_asg_cycle_duration_seconds", {}, secs);
    metrics_.inc("haproxy_asg_cycles_total", {{"outcome", "error"}});
    metrics_.inc("haproxy_asg_errors_total", {{"code", report.error().code.empty() ? "error" : report.error().code}});
    metrics_.set("haproxy_asg_discovery_ok", {}, syncer_->discovery_ok() ? 1 : 0);
    spdlog::error("cycle failed (attempt {}), last good state kept: {}", failures_, last_error_);
  }
}

void Daemon::reload_config() {
  auto fresh = config::load_config(config_path_);
  if (!fresh) {
    spdlog::error("SIGHUP: keeping the running configuration: {}", fresh.error().message);
    return;
  }
  if (fresh->listen != cfg_.listen) spdlog::warn("SIGHUP: a new listen address takes effect after a restart");
  // Only the loop thread (this one) touches the syncer and the edges; the endpoint's threads read cfg_ under mu_.
  if (fresh->haproxy != cfg_.haproxy) {
    control_ = make_socket_control(fresh->haproxy);
    files_ = make_disk_files(fresh->haproxy);
    auto drains = syncer_->drains();
    bool pending = syncer_->reload_pending();
    syncer_ = std::make_unique<Syncer>(*fresh, aws_->provider(), *control_, *files_);
    syncer_->set_drains(drains);
    syncer_->set_reload_pending(pending);
  } else {
    syncer_->set_config(*fresh);
  }
  {
    std::lock_guard lock(mu_);
    cfg_ = *fresh;
  }
  spdlog::info("SIGHUP: configuration reloaded from {} ({} backends)", config_path_, cfg_.backends.size());
}

std::pair<bool, std::string> Daemon::health() const {
  std::lock_guard lock(mu_);
  auto limit = cfg_.interval * kUnhealthyAfterIntervals;
  auto ref = last_discovery_ok_.value_or(started_);
  auto age = std::chrono::steady_clock::now() - ref;
  if (age <= limit + std::chrono::seconds(1)) return {true, "ok\n"};
  std::string why = last_discovery_ok_ ? "no successful cycle for " : "no successful cycle since start, ";
  why += std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) + "s";
  if (!last_error_.empty()) why += ": " + last_error_;
  return {false, why + "\n"};
}

std::string Daemon::status_json() const {
  std::lock_guard lock(mu_);
  nlohmann::json j;
  j["healthy"] = last_error_.empty();
  j["last_error"] = last_error_;
  j["backends"] = last_report_ ? status_view(cfg_, *last_report_) : nlohmann::json::array();
  // AWS error text may carry a cut multi-byte character: replace it rather than fail the whole answer.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Daemon::stop() {
  std::lock_guard lock(mu_);
  stop_ = true;
  wake_.notify_all();
}

void Daemon::request_reload() {
  std::lock_guard lock(mu_);
  reload_ = true;
  wake_.notify_all();
}

int Daemon::run() {
  HttpEndpoint endpoint({[this] {
                           std::lock_guard lock(mu_);
                           return render_metrics();
                         },
                         [this] { return health(); }, [this] { return status_json(); }});
  if (auto st = endpoint.start(cfg_.listen); !st) {
    spdlog::error("{}", st.error().message);
    return 1;
  }
  spdlog::info("haproxy-asg running: {} backend(s), interval {} ms, metrics on http://{}/metrics",
               cfg_.backends.size(), cfg_.interval.count(), cfg_.listen);
  std::mt19937_64 rng(std::random_device{}());
  for (;;) {
    cycle();
    std::chrono::milliseconds wait;
    {
      std::lock_guard lock(mu_);
      if (failures_ == 0) {
        // +-10% jitter, so that many load balancers started together do not call AWS in step.
        std::uniform_real_distribution<double> jitter(0.9, 1.1);
        wait = std::chrono::milliseconds(static_cast<long long>(cfg_.interval.count() * jitter(rng)));
      } else {
        // Exponential backoff with full jitter between interval and the cap.
        wait = full_jitter(cfg_.interval, kMaxBackoff, std::min(failures_, 10), rng, cfg_.interval);
      }
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, wait, [&] { return stop_ || reload_; });
    if (stop_) break;
    if (reload_) {
      reload_ = false;
      lock.unlock();
      reload_config();
    }
  }
  spdlog::info("haproxy-asg stopping");
  return 0;
}

int Daemon::run_with_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started from here on
  std::thread signals([this, set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        request_reload();
      } else {
        stop();
        return;
      }
    }
  });
  int rc = run();
  // run() also returns on a start-up failure, with the signal thread still in sigwait: wake it the way it expects.
  bool stopped_by_signal;
  {
    std::lock_guard lock(mu_);
    stopped_by_signal = stop_;
  }
  if (!stopped_by_signal) pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return rc;
}

}  // namespace hasg::daemon
