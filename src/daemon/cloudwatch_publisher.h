// `cloudwatch: {namespace, period}`: each group's load, published with PutMetricData every period under the names
// ALB users know (dimension AutoScalingGroupName): RequestCount, RequestCountPerTarget, HealthyHostCount,
// UnHealthyHostCount, TargetResponseTime, HTTPCode_Target_5XX_Count, QueuedRequests.
//
// Off the loop: its own thread samples HAProxy's backend counters every second (core/load.h) and publishes at each
// period's end on its own CloudWatch connection; a cycle only hands over the host counts it saw (cycle_ended counts
// them under a lock no socket or AWS call is ever made under, and returns). A failed publish is kept and sent again
// with the next period's data, once; it never holds up a cycle. The loop calls around_reload() before and after a
// reload it makes (it only sets a flag): from then until a second after it, the thread samples every 10 ms
// (haproxy/load_sampler.h, sample_quick), so the outgoing worker's counts are read until it has handed over to the
// new one and finished its last requests.
//
// Nothing is made up: a period in which HAProxy's counters could not be read once publishes no load datums (a
// policy must not read "no traffic" into an outage), and host counts are published only once a cycle saw the
// group and HAProxy (0 healthy while HAProxy is not running).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aws/cloudwatch.h"
#include "config/config.h"
#include "core/load.h"
#include "daemon/cycle_observer.h"
#include "daemon/metrics.h"
#include "haproxy/load_sampler.h"

namespace hasg::daemon {

// The datums of one period (pure; public for tests): per group, timestamped with the period's start, high
// resolution (StorageResolution 1) when the period is under a minute. TargetResponseTime only when a request
// ended in the period; RequestCountPerTarget divides by the healthy hosts (at least 1). `load`: the request,
// response and queue datums (false when HAProxy could not be read in the period); `hosts`: the host counts (false
// before any cycle saw them).
std::vector<aws::MetricDatum> period_datums(const std::vector<core::GroupLoad>& loads,
                                            std::chrono::system_clock::time_point period_start,
                                            std::chrono::milliseconds period, bool load = true, bool hosts = true);

// Where the wall clock's current period began: periods are aligned on multiples of `period` since the epoch, as
// CloudWatch aggregates them.
std::chrono::system_clock::time_point period_floor(std::chrono::system_clock::time_point t,
                                                   std::chrono::milliseconds period);

// Where the data goes; an interface so the publisher is tested without AWS.
class MetricSink {
 public:
  virtual ~MetricSink() = default;
  // `sent`: how many datums, from the first, CloudWatch accepted (also when the call failed part-way).
  virtual Status put(const std::string& metric_namespace, const std::vector<aws::MetricDatum>& datums,
                     size_t& sent) = 0;
};
std::unique_ptr<MetricSink> make_cloudwatch_sink(aws::QueryClient& client);

class CloudWatchPublisher : public CycleObserver {
 public:
  struct Options {
    config::CloudWatchSettings settings;
    std::vector<core::BackendSpec> backends;
    std::chrono::milliseconds sample_every{1000};
    std::chrono::milliseconds sample_every_in_reload{10};
  };
  CloudWatchPublisher(std::unique_ptr<MetricSink> sink, std::unique_ptr<haproxy::LoadSampler> sampler,
                      Options options, Metrics& metrics);
  ~CloudWatchPublisher() override;

  void start();
  // Publishes what the current period holds so far (so a stop loses nothing) and joins the thread.
  void stop();

  void cycle_ended(const CycleEnd& end) override;
  // Called on the loop thread just before (true) and just after (false) a reload it makes.
  void around_reload(bool before);
  // SIGHUP: new backends or namespace; the period (a new one takes a restart) and the counts carry on.
  void reconfigure(const config::CloudWatchSettings& settings, std::vector<core::BackendSpec> backends);

 private:
  void run();
  // Reads HAProxy without holding `lock` (mu_), then adds what it read to the ledger.
  void sample(std::unique_lock<std::mutex>& lock, bool quick);
  bool following_reload() const;
  void publish(std::chrono::system_clock::time_point period_start, std::unique_lock<std::mutex>& lock);

  std::unique_ptr<MetricSink> sink_;
  std::unique_ptr<haproxy::LoadSampler> sampler_;
  Metrics& metrics_;

  std::mutex mu_;  // everything below
  std::condition_variable cv_;
  Options options_;
  core::LoadLedger ledger_;
  std::map<std::string, core::HostCounts> hosts_;
  bool have_hosts_ = false;     // a cycle has counted them
  int samples_in_period_ = 0;   // successful samples since the last publish
  std::vector<aws::MetricDatum> retry_;  // a failed period's datums, sent once more with the next one
  bool sample_failing_ = false;
  bool reloading_ = false;
  std::chrono::steady_clock::time_point follow_until_{};  // fast sampling goes on after a reload until then
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hasg::daemon
