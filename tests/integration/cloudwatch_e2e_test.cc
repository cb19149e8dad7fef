// Issue 9, load published for scaling, end to end against the real HAProxy 2.6 and the simulator's CloudWatch: the
// RequestCount that `haproxy-asg run` publishes sums to the requests a client made (within 2 %), across a reload
// and a scale-in in the middle; the other ALB names arrive beside it, high resolution under a minute.
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "hook_rig.h"

namespace hasg::test {
namespace {

using namespace std::chrono_literals;

class CloudWatchE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }
};

double sum_of(const std::vector<sim::MetricPoint>& points, const std::string& name) {
  double s = 0;
  for (const auto& p : points)
    if (p.name == name) s += p.sum;
  return s;
}

TEST_F(CloudWatchE2E, RequestCountSumsToTheClientsRequestsAcrossAReloadAndAScaleIn) {
  HookRigOptions o;
  o.net = 73;
  o.desired = 4;
  o.top_yaml = "cloudwatch:\n  namespace: HAProxyASG-Test\n  period: 1s\n";
  // The scale-in goes through a termination hook, as in production: the instance dies only once drained, so no
  // request is cut on it (without a hook, a request in flight on it fails, which is not what this test measures).
  o.backend_yaml = "    lifecycle_hooks: {terminating: drain}\n";
  HookRig r(o);
  r.put_hook("drain", sim::kTerminatingTransition, 60);
  // A leaving instance's idle keep-alive connections can be cut: such a request is retried on another server, so
  // every client request gets an answer and is counted once. At the reload, the old worker would close the
  // clients' idle connections while a request may be on its way (a failed request, 1 in ~700,000 here):
  // `option idle-close-on-response` (2.6) has it answer one more request with "Connection: close" instead.
  const std::string reload_safe = "    option idle-close-on-response\n";
  r.retry_elsewhere(reload_safe);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 4; })) << r.log();

  auto load = std::async(std::launch::async, [&] {
    return run_command({binary_path("haproxy-asg-load"), r.rig().frontend_url(), "-c", "8", "-d", "12", "--json",
                        "-q"},
                       {}, 60s);
  });
  std::this_thread::sleep_for(3s);
  // A structural change: the daemon reloads HAProxy (validated, through the master) while the load runs.
  int reloads_before = r.rig().reloads();
  r.retry_elsewhere(reload_safe + "    timeout http-request 9s\n");
  ASSERT_TRUE(wait_until([&] { return r.rig().reloads() > reloads_before; }, 10s)) << r.log();
  std::this_thread::sleep_for(2s);
  // A scale-in: one server drained and removed at runtime (its own counters go with it).
  ASSERT_TRUE(r.sim().set_desired("app", 3).ok());
  ASSERT_TRUE(wait_until([&] { return r.rig().haproxy_servers().size() == 3; }, 15s)) << r.log();

  auto done = load.get();
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  auto summary = nlohmann::json::parse(done.out);
  auto made = summary["requests"].get<double>();
  ASSERT_GT(made, 1000) << done.out;
  EXPECT_EQ(summary["failed"].get<double>(), 0) << done.out;

  // The daemon stops: it publishes the period in progress, so every counted request is out.
  r.daemon().signal(SIGTERM);
  EXPECT_EQ(r.daemon().wait(15s), 0) << r.log();
  auto points = r.sim().metric_data("HAProxyASG-Test");
  ASSERT_FALSE(points.empty()) << r.log();
  double published = sum_of(points, "RequestCount");
  EXPECT_NEAR(published, made, made * 0.02) << "published " << published << ", the client made " << made;
  std::cout << "client requests " << made << ", published RequestCount " << published << " (reloads "
            << r.rig().reloads() - reloads_before << ")\n";

  std::set<std::string> names;
  for (const auto& p : points) {
    names.insert(p.name);
    EXPECT_EQ(p.dimensions, (std::vector<std::pair<std::string, std::string>>{{"AutoScalingGroupName", "app"}}));
    EXPECT_EQ(p.storage_resolution, 1) << p.name << ": a 1 s period is high resolution";
  }
  EXPECT_EQ(names, (std::set<std::string>{"RequestCount", "RequestCountPerTarget", "HealthyHostCount",
                                          "UnHealthyHostCount", "TargetResponseTime", "HTTPCode_Target_5XX_Count",
                                          "QueuedRequests"}));
  EXPECT_EQ(sum_of(points, "HTTPCode_Target_5XX_Count"), 0);
  double max_healthy = 0;
  for (const auto& p : points)
    if (p.name == "HealthyHostCount") max_healthy = std::max(max_healthy, p.maximum);
  EXPECT_EQ(max_healthy, 4);
  for (const auto& p : points)
    if (p.name == "TargetResponseTime") {
      EXPECT_GE(p.sum, 0);
      EXPECT_LT(p.sum, 1.0) << "seconds, not milliseconds";
    }
}

// CloudWatch refusing (throttled past the retries) never holds up a cycle: membership still follows the group, and
// the data of the failed period goes out with the next one once CloudWatch answers again.
TEST_F(CloudWatchE2E, AFailingCloudWatchNeverHoldsUpACycle) {
  HookRigOptions o;
  o.net = 74;
  o.desired = 2;
  o.top_yaml = "cloudwatch:\n  namespace: HAProxyASG-Test\n  period: 1s\n";
  HookRig r(o);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged(); })) << r.log();
  sim::Fault f;
  f.action = "PutMetricData";
  f.kind = sim::Fault::Kind::ServerError;
  f.count = -1;
  r.sim().inject(f);
  ASSERT_TRUE(r.sim().set_desired("app", 3).ok());
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 3; }, 10s)) << r.log();
  ASSERT_TRUE(wait_until([&] { return r.metric("haproxy_asg_cloudwatch_periods_total", {{"outcome", "failed"}}) >= 2; },
                         10s))
      << r.log();
  r.sim().clear_faults();
  ASSERT_TRUE(wait_until(
      [&] { return r.metric("haproxy_asg_cloudwatch_periods_total", {{"outcome", "retried"}}) >= 1; }, 10s))
      << r.log();
  EXPECT_GE(r.metric("haproxy_asg_cloudwatch_periods_total", {{"outcome", "dropped"}}), 1)
      << "two failures in a row: the older period is dropped, not piled up";
}

}  // namespace
}  // namespace hasg::test
