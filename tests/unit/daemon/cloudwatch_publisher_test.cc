#include "daemon/cloudwatch_publisher.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace hasg::daemon {
namespace {

using namespace std::chrono_literals;

core::GroupLoad load(std::string group, uint64_t requests, int healthy, int unhealthy) {
  core::GroupLoad g;
  g.group = std::move(group);
  g.requests = requests;
  g.hosts = {healthy, unhealthy};
  return g;
}

const aws::MetricDatum* find(const std::vector<aws::MetricDatum>& ds, const std::string& name,
                             const std::string& group) {
  for (const auto& d : ds)
    if (d.name == name && d.dimensions == std::vector<std::pair<std::string, std::string>>{{"AutoScalingGroupName", group}})
      return &d;
  return nullptr;
}

TEST(PeriodDatums, TheNamesAlbUsersKnowPerGroup) {
  auto g = load("web", 1200, 4, 1);
  g.responses_5xx = 3;
  g.response_seconds = 0.042;
  g.queued.add(2);
  g.queued.add(5);
  auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1'795'000'000));
  auto ds = period_datums({g, load("api", 0, 0, 0)}, start, 60s);
  auto rc = find(ds, "RequestCount", "web");
  ASSERT_NE(rc, nullptr);
  EXPECT_EQ(rc->value, 1200.0);
  EXPECT_EQ(rc->unit, "Count");
  EXPECT_EQ(rc->timestamp, start);
  EXPECT_EQ(rc->storage_resolution, 60);
  EXPECT_EQ(find(ds, "RequestCountPerTarget", "web")->value, 300.0);
  EXPECT_EQ(find(ds, "HealthyHostCount", "web")->value, 4.0);
  EXPECT_EQ(find(ds, "UnHealthyHostCount", "web")->value, 1.0);
  EXPECT_EQ(find(ds, "HTTPCode_Target_5XX_Count", "web")->value, 3.0);
  auto rt = find(ds, "TargetResponseTime", "web");
  ASSERT_NE(rt, nullptr);
  EXPECT_EQ(rt->unit, "Seconds");
  EXPECT_DOUBLE_EQ(*rt->value, 0.042);
  auto q = find(ds, "QueuedRequests", "web");
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->statistics.has_value());
  EXPECT_EQ(*q->statistics, (aws::StatisticSet{2, 7, 2, 5}));
  EXPECT_FALSE(q->value.has_value());
  // A group without traffic: zeros (a target-tracking policy scales in on them), no response time, and the
  // per-target count does not divide by zero healthy hosts.
  EXPECT_EQ(find(ds, "RequestCount", "api")->value, 0.0);
  EXPECT_EQ(find(ds, "RequestCountPerTarget", "api")->value, 0.0);
  EXPECT_EQ(find(ds, "TargetResponseTime", "api"), nullptr);
  EXPECT_EQ(find(ds, "QueuedRequests", "api")->value, 0.0);
  EXPECT_EQ(ds.size(), 7u + 6u);
}

// A period in which HAProxy could not be read has no load datums (not "0 requests"), and no host counts are sent
// before a cycle counted them.
TEST(PeriodDatums, NothingMadeUp) {
  auto ds = period_datums({load("web", 0, 3, 0)}, {}, 60s, /*load=*/false, /*hosts=*/true);
  EXPECT_EQ(find(ds, "RequestCount", "web"), nullptr);
  EXPECT_EQ(find(ds, "QueuedRequests", "web"), nullptr);
  ASSERT_NE(find(ds, "HealthyHostCount", "web"), nullptr);
  EXPECT_EQ(ds.size(), 2u);
  EXPECT_TRUE(period_datums({load("web", 0, 3, 0)}, {}, 60s, false, false).empty());
}

TEST(PeriodDatums, HighResolutionUnderAMinute) {
  auto ds = period_datums({load("web", 10, 1, 0)}, {}, 10s);
  for (const auto& d : ds) EXPECT_EQ(d.storage_resolution, 1) << d.name;
}

TEST(PeriodFloor, AlignedOnMultiplesOfThePeriod) {
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'795'000'123'456));
  EXPECT_EQ(period_floor(t, 60s).time_since_epoch(), std::chrono::milliseconds(1'795'000'080'000));
  EXPECT_EQ(period_floor(t, 10s).time_since_epoch(), std::chrono::milliseconds(1'795'000'120'000));
}

// HAProxy as a counter that grows by 10 requests a sample.
class GrowingSampler : public haproxy::LoadSampler {
 public:
  Result<Sampled> sample() override {
    std::lock_guard lock(mu_);
    requests_ += 10;
    ++samples_;
    return Sampled{core::LoadSample{{42, {{"app", core::BackendCounters{requests_, 0, 0, 0}}}}}, true};
  }
  Result<Sampled> sample_quick() override { return sample(); }
  uint64_t total() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  uint64_t requests_ = 0;
  int samples_ = 0;
};

// CloudWatch that fails the calls it is told to fail and records the rest.
class RecordingSink : public MetricSink {
 public:
  Status put(const std::string& ns, const std::vector<aws::MetricDatum>& datums, size_t& sent) override {
    std::lock_guard lock(mu_);
    ++calls_;
    sent = 0;
    if (fail_next_ > 0) {
      --fail_next_;
      cv_.notify_all();
      return make_error("Throttling", "Rate exceeded");
    }
    for (const auto& d : datums) accepted_.push_back(d);
    sent = datums.size();
    ns_ = ns;
    cv_.notify_all();
    return Ok{};
  }
  bool wait_calls(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return calls_ >= n; });
  }
  double sum(const std::string& name) {
    std::lock_guard lock(mu_);
    double s = 0;
    for (const auto& d : accepted_)
      if (d.name == name) s += d.value.value_or(0);
    return s;
  }
  size_t count(const std::string& name) {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(std::count_if(accepted_.begin(), accepted_.end(), [&](const auto& d) {
      return d.name == name;
    }));
  }
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  int fail_next_ = 0;
  std::string ns_;
  std::vector<aws::MetricDatum> accepted_;
};

struct Rig {
  explicit Rig(int fail_first) {
    auto s = std::make_unique<RecordingSink>();
    s->fail_next_ = fail_first;
    sink = s.get();
    auto smp = std::make_unique<GrowingSampler>();
    sampler = smp.get();
    CloudWatchPublisher::Options o;
    o.settings.enabled = true;
    o.settings.metric_namespace = "Test";
    o.settings.period = 1s;
    o.sample_every = 100ms;
    core::BackendSpec b;
    b.backend = "app";
    b.group = "app-asg";
    o.backends = {b};
    publisher = std::make_unique<CloudWatchPublisher>(std::move(s), std::move(smp), o, metrics);
  }
  Metrics metrics;
  RecordingSink* sink = nullptr;
  GrowingSampler* sampler = nullptr;
  std::unique_ptr<CloudWatchPublisher> publisher;
};

// Every request counted after the baseline is published exactly once, the partial last period at stop included.
TEST(CloudWatchPublisher, PublishesEveryRequestOnce) {
  Rig rig(0);
  rig.publisher->start();
  ASSERT_TRUE(rig.sink->wait_calls(2));
  rig.publisher->stop();
  EXPECT_EQ(rig.sink->ns_, "Test");
  EXPECT_EQ(rig.sink->sum("RequestCount"), static_cast<double>(rig.sampler->total() - 10))
      << "all but the baseline sample's 10";
  EXPECT_EQ(rig.metrics.value("haproxy_asg_cloudwatch_periods_total", {{"outcome", "published"}}),
            static_cast<double>(rig.sink->calls_));
}

// A failed period is sent again with the next one, once; nothing is lost when the retry succeeds.
TEST(CloudWatchPublisher, AFailedPeriodIsRetriedWithTheNext) {
  Rig rig(1);
  rig.publisher->start();
  ASSERT_TRUE(rig.sink->wait_calls(3));
  rig.publisher->stop();
  EXPECT_EQ(rig.sink->sum("RequestCount"), static_cast<double>(rig.sampler->total() - 10));
  EXPECT_EQ(rig.metrics.value("haproxy_asg_cloudwatch_periods_total", {{"outcome", "failed"}}), 1.0);
  EXPECT_EQ(rig.metrics.value("haproxy_asg_cloudwatch_periods_total", {{"outcome", "retried"}}), 1.0);
}

// Failing twice drops the older period (retried once only), never piles up.
TEST(CloudWatchPublisher, AFailedPeriodIsDroppedAfterItsOneRetry) {
  Rig rig(2);
  rig.publisher->start();
  ASSERT_TRUE(rig.sink->wait_calls(4));
  rig.publisher->stop();  // a fifth call: the period in progress
  EXPECT_EQ(rig.metrics.value("haproxy_asg_cloudwatch_periods_total", {{"outcome", "dropped"}}), 1.0);
  EXPECT_LT(rig.sink->sum("RequestCount"), static_cast<double>(rig.sampler->total() - 10));
  // Every accepted call carried its own period; the first of them also the period retried (the one before was
  // dropped): one RequestCount datum per period.
  EXPECT_EQ(rig.sink->count("RequestCount"), static_cast<size_t>(rig.sink->calls_ - 2 + 1));
}

class DownSampler : public haproxy::LoadSampler {
 public:
  Result<Sampled> sample() override { return make_error("HaproxyNotRunning", "nothing listens"); }
  Result<Sampled> sample_quick() override { return sample(); }
};

// HAProxy down: no period says "0 requests"; once a cycle saw the group with HAProxy not running, the hosts are
// published as 0 healthy, and nothing else.
TEST(CloudWatchPublisher, AnOutageIsNotNoTraffic) {
  Metrics metrics;
  auto s = std::make_unique<RecordingSink>();
  auto* sink = s.get();
  CloudWatchPublisher::Options o;
  o.settings.enabled = true;
  o.settings.period = 1s;
  o.sample_every = 100ms;
  core::BackendSpec b;
  b.backend = "app";
  b.group = "app-asg";
  o.backends = {b};
  CloudWatchPublisher p(std::move(s), std::make_unique<DownSampler>(), o, metrics);
  p.start();
  std::this_thread::sleep_for(2500ms);  // two periods end with nothing read: nothing to send
  {
    std::lock_guard lock(sink->mu_);
    EXPECT_EQ(sink->calls_, 0);
  }
  CycleReport report;
  core::GroupMembers g{"app-asg", true, {}};
  core::Member m;
  m.instance_id = "i-1";
  m.served = true;
  g.members.push_back(m);
  report.groups = {g};
  report.haproxy_running = false;
  CycleEnd end;
  end.report = &report;
  end.discovery_ok = true;
  p.cycle_ended(end);
  ASSERT_TRUE(sink->wait_calls(1));
  p.stop();
  EXPECT_EQ(sink->count("RequestCount"), 0u);
  EXPECT_EQ(sink->count("QueuedRequests"), 0u);
  EXPECT_GE(sink->count("HealthyHostCount"), 1u);
  EXPECT_EQ(sink->sum("HealthyHostCount"), 0.0);
}

}  // namespace
}  // namespace hasg::daemon
