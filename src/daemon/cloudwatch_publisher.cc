#include "daemon/cloudwatch_publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/aws_faults.h"

namespace hasg::daemon {

namespace {

constexpr const char* kPeriods = "haproxy_asg_cloudwatch_periods_total";
constexpr auto kFollowAfterReload = std::chrono::seconds(1);

class CloudWatchSink : public MetricSink {
 public:
  explicit CloudWatchSink(aws::QueryClient& client) : client_(client) {}
  Status put(const std::string& metric_namespace, const std::vector<aws::MetricDatum>& datums,
             size_t& sent) override {
    return aws::put_metric_data(client_, metric_namespace, datums, &sent);
  }

 private:
  aws::QueryClient& client_;
};

}  // namespace

std::unique_ptr<MetricSink> make_cloudwatch_sink(aws::QueryClient& client) {
  return std::make_unique<CloudWatchSink>(client);
}

std::chrono::system_clock::time_point period_floor(std::chrono::system_clock::time_point t,
                                                   std::chrono::milliseconds period) {
  auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  return std::chrono::system_clock::time_point(since_epoch - since_epoch % period);
}

std::vector<aws::MetricDatum> period_datums(const std::vector<core::GroupLoad>& loads,
                                            std::chrono::system_clock::time_point period_start,
                                            std::chrono::milliseconds period, bool load, bool hosts) {
  // CloudWatch keeps data sent with StorageResolution 1 at one-second granularity (high resolution); 60 is the
  // standard one-minute resolution, enough for periods of a minute or more.
  int resolution = period < std::chrono::minutes(1) ? 1 : 60;
  std::vector<aws::MetricDatum> out;
  for (const auto& g : loads) {
    auto datum = [&](const char* name, const char* unit, double value) {
      aws::MetricDatum d;
      d.name = name;
      d.dimensions = {{"AutoScalingGroupName", g.group}};
      d.timestamp = period_start;
      d.value = value;
      d.unit = unit;
      d.storage_resolution = resolution;
      return d;
    };
    auto requests = static_cast<double>(g.requests);
    if (load) {
      out.push_back(datum("RequestCount", "Count", requests));
      out.push_back(datum("RequestCountPerTarget", "Count", requests / std::max(1, g.hosts.healthy)));
    }
    if (hosts) {
      out.push_back(datum("HealthyHostCount", "Count", g.hosts.healthy));
      out.push_back(datum("UnHealthyHostCount", "Count", g.hosts.unhealthy));
    }
    if (!load) continue;
    if (g.response_seconds) out.push_back(datum("TargetResponseTime", "Seconds", *g.response_seconds));
    out.push_back(datum("HTTPCode_Target_5XX_Count", "Count", static_cast<double>(g.responses_5xx)));
    auto queued = datum("QueuedRequests", "Count", 0);
    if (g.queued.count > 0) {
      queued.value.reset();
      queued.statistics =
          aws::StatisticSet{static_cast<double>(g.queued.count), g.queued.sum, g.queued.min, g.queued.max};
    }
    out.push_back(std::move(queued));
  }
  return out;
}

CloudWatchPublisher::CloudWatchPublisher(std::unique_ptr<MetricSink> sink,
                                         std::unique_ptr<haproxy::LoadSampler> sampler, Options options,
                                         Metrics& metrics)
    : sink_(std::move(sink)), sampler_(std::move(sampler)), metrics_(metrics), options_(std::move(options)) {
  metrics_.counter(kPeriods,
                   "CloudWatch publishes of a period's datums by outcome: published, retried (published with the "
                   "next period), failed (kept for one retry), dropped (failed twice)");
}

CloudWatchPublisher::~CloudWatchPublisher() { stop(); }

void CloudWatchPublisher::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void CloudWatchPublisher::stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CloudWatchPublisher::cycle_ended(const CycleEnd& end) {
  if (end.report == nullptr || !end.discovery_ok) return;
  std::lock_guard lock(mu_);
  // HAProxy not running: nothing is healthy (every group's counts are 0).
  hosts_ = core::count_hosts(end.report->groups, options_.backends,
                             end.report->haproxy_running ? end.report->actual : std::vector<core::ActualBackend>{});
  have_hosts_ = true;
}

void CloudWatchPublisher::around_reload(bool before) {
  {
    std::lock_guard lock(mu_);
    reloading_ = before;
    // The outgoing worker finishes its requests in flight after the reload: keep following it a while.
    if (!before) follow_until_ = std::chrono::steady_clock::now() + kFollowAfterReload;
  }
  cv_.notify_all();  // the thread samples at once, then every 10 ms
}

bool CloudWatchPublisher::following_reload() const {
  return reloading_ || std::chrono::steady_clock::now() < follow_until_;
}

void CloudWatchPublisher::reconfigure(const config::CloudWatchSettings& settings,
                                      std::vector<core::BackendSpec> backends) {
  std::lock_guard lock(mu_);
  auto period = options_.settings.period;  // the periods already aligned carry on; a new one takes a restart
  options_.settings = settings;
  options_.settings.period = period;
  options_.backends = std::move(backends);
}

void CloudWatchPublisher::sample(std::unique_lock<std::mutex>& lock, bool quick) {
  // Only this thread uses the sampler; the lock is released for the sockets, so a cycle handing over its host
  // counts never waits for HAProxy (a master re-executing during someone else's reload answers after seconds).
  lock.unlock();
  auto s = quick ? sampler_->sample_quick() : sampler_->sample();
  lock.lock();
  // A failed sample: HAProxy stopped or restarted; its counters start again from zero in the new workers, which
  // the ledger counts as new, and what the old ones counted since the last sample is lost with them. Quick samples
  // fail during a reload by design (the master re-executes, the runtime socket changes hands): not worth a line.
  if (!quick) {
    if (!s && !sample_failing_) spdlog::warn("cloudwatch: cannot read HAProxy's counters: {}", s.error().message);
    if (s && sample_failing_) spdlog::info("cloudwatch: HAProxy's counters readable again");
    sample_failing_ = !s;
  }
  if (!s) return;
  ledger_.observe(s->sample, s->complete);
  ++samples_in_period_;
}

void CloudWatchPublisher::publish(std::chrono::system_clock::time_point period_start,
                                  std::unique_lock<std::mutex>& lock) {
  // The AWS call is made without the lock: a cycle handing over its host counts never waits for CloudWatch.
  auto loads = core::group_loads(ledger_.take(), options_.backends, hosts_);
  bool sampled = samples_in_period_ > 0;
  samples_in_period_ = 0;
  auto datums = period_datums(loads, period_start, options_.settings.period, sampled, have_hosts_);
  if (datums.empty() && retry_.empty()) return;
  size_t retried = retry_.size();
  std::vector<aws::MetricDatum> batch = std::move(retry_);
  retry_.clear();
  batch.insert(batch.end(), datums.begin(), datums.end());
  std::string ns = options_.settings.metric_namespace;
  lock.unlock();
  size_t sent = 0;
  auto st = sink_->put(ns, batch, sent);
  lock.lock();
  if (st) {
    metrics_.inc(kPeriods, {{"outcome", "published"}});
    if (retried > 0) {
      metrics_.inc(kPeriods, {{"outcome", "retried"}});
      spdlog::info("cloudwatch: published the previous period's {} datums late, with this one's", retried);
    }
    spdlog::debug("cloudwatch: published {} datums to {}", batch.size(), ns);
    return;
  }
  // What CloudWatch accepted before the failure is not sent again; the previous period's rest is dropped (it had
  // its one retry), this period's rest is kept for the next.
  if (sent < retried) {
    metrics_.inc(kPeriods, {{"outcome", "dropped"}});
    spdlog::error("cloudwatch: PutMetricData failed again; dropping the previous period's {} datums: {}",
                  retried - sent, st.error().message);
  } else if (retried > 0) {
    metrics_.inc(kPeriods, {{"outcome", "retried"}});
  }
  metrics_.inc(kPeriods, {{"outcome", "failed"}});
  spdlog::log(logged_as_fault(st.error()) ? spdlog::level::debug : spdlog::level::warn,
              "cloudwatch: PutMetricData failed, retrying with the next period: {}", st.error().message);
  retry_.assign(batch.begin() + static_cast<std::ptrdiff_t>(std::max(sent, retried)), batch.end());
}

void CloudWatchPublisher::run() {
  std::unique_lock lock(mu_);
  sample(lock, false);  // the baseline: what HAProxy counted before is not this daemon's to publish
  samples_in_period_ = 0;
  auto period_start = period_floor(std::chrono::system_clock::now(), options_.settings.period);
  auto next_sample = std::chrono::steady_clock::now() + options_.sample_every;
  while (!stopping_) {
    auto period_end = period_start + options_.settings.period;
    bool fast = following_reload();
    // Wake for the next sample, or at the period's end if that comes first, so a period's counts end on time;
    // around a reload every few milliseconds.
    auto until_end = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        period_end - std::chrono::system_clock::now());
    auto wake = fast ? std::chrono::steady_clock::now() + options_.sample_every_in_reload
                     : std::min(next_sample, std::chrono::steady_clock::now() + until_end);
    cv_.wait_until(lock, wake, [&] { return stopping_ || (!fast && reloading_); });
    if (stopping_) break;
    auto now_steady = std::chrono::steady_clock::now();
    bool period_over = std::chrono::system_clock::now() >= period_end;
    if (following_reload()) {
      sample(lock, true);
    } else if (now_steady >= next_sample || period_over) {
      sample(lock, false);
    }
    if (now_steady >= next_sample) {
      next_sample += options_.sample_every;
      if (next_sample <= now_steady) next_sample = now_steady + options_.sample_every;  // fell behind: skip
    }
    if (period_over) {
      publish(period_start, lock);
      period_start = period_floor(std::chrono::system_clock::now(), options_.settings.period);
    }
  }
  // A stop publishes the partial period, so nothing counted is left unsent.
  sample(lock, false);
  publish(period_start, lock);
}

}  // namespace hasg::daemon
