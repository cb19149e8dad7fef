// `haproxy-asg run`: the sync cycle at `interval` (with jitter), retried with backoff after a failure, woken early by
// event sources (one seam: request_cycle), SIGHUP re-reading the YAML (a bad file keeps the old one), SIGTERM
// stopping cleanly, /metrics, /healthz and /status on the local endpoint.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/aws_lifecycle.h"
#include "daemon/cert_watch.h"
#include "daemon/cluster_records.h"
#include "daemon/cloudwatch_publisher.h"
#include "daemon/aws_faults.h"
#include "daemon/cycle_observer.h"
#include "daemon/drain_watch.h"
#include "daemon/event_source.h"
#include "daemon/fault_book.h"
#include "daemon/metrics.h"
#include "daemon/prometheus_sink.h"
#include "daemon/sqs_events.h"
#include "daemon/state_file.h"
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
  // Asks for a cycle now (coalesced with any other request not yet served). While cycles fail, the failure backoff
  // is not cut short: the request runs when the backoff ends (see ARCHITECTURE.md). Safe from any thread.
  void request_cycle(const std::string& reason);
  // Asks for a validated reload of HAProxy by the next cycle (its planner and syncer: `haproxy -c`, then the master
  // CLI), for `reason`. Safe from any thread; used by the certificate watch.
  void request_haproxy_reload(const std::string& reason);

  // Event sources and observers: added before run(); the daemon owns them, starts the sources with request_cycle
  // as their wake callback and stops them before run() returns.
  void add_event_source(std::unique_ptr<EventSource> source);
  void add_observer(std::unique_ptr<CycleObserver> observer);

  // /healthz: healthy while a cycle has succeeded within `unhealthy_after` intervals and no fault in the book is
  // older than that; the text lists every fault in the book (see FaultBook).
  std::pair<bool, std::string> health() const;
  // The faults the daemon is living with; edges report into it (and resolve) from any thread.
  FaultBook& faults() { return faults_; }
  std::string status_json() const;
  Metrics& metrics() { return metrics_; }

 private:
  void cycle();
  // During a failure backoff: the heartbeats due, alone (Syncer::keep_hooks_alive), and the state saved.
  void keep_hooks_alive();
  void save_state();
  void reload_config();
  std::chrono::milliseconds next_wait();
  void watch_drains(const CycleReport* report);
  // `cluster:` without node_id and IMDS silent at start: asks IMDS again (before each cycle) until it answers.
  void retry_node_id();
  // What the syncer calls around a reload it makes (the CloudWatch publisher reads the outgoing worker then).
  ReloadNotice around_reload();

  std::string config_path_;
  config::Config cfg_;
  std::unique_ptr<discovery::AwsDiscovery> aws_;
  std::unique_ptr<AwsLifecycleControl> lifecycle_;  // only when a backend owns a lifecycle hook
  std::unique_ptr<AwsClusterRecords> cluster_;       // only with `cluster:`
  SyncEdges edges_;
  core::SyncState state_;  // loop thread only
  StateFile state_file_;
  Metrics metrics_;
  FaultBook faults_;
  AwsFaultReporter aws_faults_{faults_};  // hears every AWS call's end (ApiStats' listener), from any thread
  PrometheusSink* prometheus_ = nullptr;  // owned by observers_
  std::vector<std::unique_ptr<CycleObserver>> observers_;
  std::vector<std::unique_ptr<EventSource>> sources_;
  DrainWatch* drain_watch_ = nullptr;  // owned by sources_
  CertWatch* cert_watch_ = nullptr;    // owned by sources_
  SqsEvents* events_ = nullptr;         // owned by sources_; null without events.queue_url
  CloudWatchPublisher* cloudwatch_ = nullptr;  // owned by observers_; null without cloudwatch
  std::optional<core::TimePoint> next_due_;  // the last plan's: when something timed needs a cycle

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool reload_ = false;
  std::string cycle_requested_;  // the reason of the first request not yet served; empty when none
  std::string reload_requested_;  // request_haproxy_reload's reason, handed to the next cycle's state
  int failures_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_discovery_ok_;
  std::chrono::steady_clock::time_point started_;
  std::string last_error_;
  std::optional<CycleReport> last_report_;
};

}  // namespace hasg::daemon
