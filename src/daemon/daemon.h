// `haproxy-asg run`: the sync cycle at `interval` (with jitter), retried with backoff after a failure, SIGHUP
// re-reading the YAML (a bad file keeps the old one), SIGTERM stopping cleanly, /metrics, /healthz and /status
// on the local endpoint.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/config.h"
#include "daemon/haproxy_control.h"
#include "daemon/metrics.h"
#include "daemon/syncer.h"
#include "discovery/aws_discovery.h"

namespace hasg::daemon {

class Daemon {
 public:
  Daemon(std::string config_path, config::Config cfg, std::unique_ptr<discovery::AwsDiscovery> aws);
  ~Daemon();

  // Runs until stop() (or SIGTERM/SIGINT when signals are handled by run_with_signals). Returns the exit code.
  int run();
  // Blocks SIGHUP/SIGTERM/SIGINT, handles them on a thread of their own, then run().
  int run_with_signals();

  void stop();
  void request_reload();  // what SIGHUP does

  // /healthz: healthy while discovery has succeeded within `unhealthy_after` intervals.
  std::pair<bool, std::string> health() const;
  std::string status_json() const;
  Metrics& metrics() { return metrics_; }

 private:
  void cycle();
  void reload_config();
  void declare_metrics();
  void record_report(const CycleReport& r, double seconds);
  std::string render_metrics();
  void load_state();
  void save_state();

  std::string config_path_;
  config::Config cfg_;
  std::unique_ptr<discovery::AwsDiscovery> aws_;
  std::unique_ptr<HaproxyControl> control_;
  std::unique_ptr<ConfigFiles> files_;
  std::unique_ptr<Syncer> syncer_;
  Metrics metrics_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool reload_ = false;
  int failures_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_discovery_ok_;
  std::chrono::steady_clock::time_point started_;
  std::string last_error_;
  std::optional<CycleReport> last_report_;
  core::DrainBook saved_drains_;
  bool saved_reload_pending_ = false;
  std::map<std::pair<std::string, std::string>, uint64_t> aws_calls_seen_;  // copied into the counter at scrape
};

}  // namespace hasg::daemon
