#include "core/load.h"

#include <gtest/gtest.h>

namespace hasg::core {
namespace {

BackendCounters counters(uint64_t requests, uint64_t e5xx = 0, uint64_t queued = 0, uint64_t rtime = 0) {
  return BackendCounters{requests, e5xx, queued, rtime};
}

TEST(LoadLedger, FirstSampleIsTheBaseline) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(5000, 7)}}}});
  EXPECT_TRUE(l.take().empty()) << "what HAProxy counted before the daemon looked is nobody's period";
  l.observe({{100, {{"app", counters(5300, 9)}}}});
  auto p = l.take();
  EXPECT_EQ(p["app"].requests, 300u);
  EXPECT_EQ(p["app"].responses_5xx, 2u);
  EXPECT_TRUE(l.take().empty()) << "take() starts a fresh period";
}

TEST(LoadLedger, PeriodsAddUpSamples) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(0)}}}});
  l.observe({{100, {{"app", counters(10)}}}});
  l.observe({{100, {{"app", counters(25)}}}});
  EXPECT_EQ(l.take()["app"].requests, 25u);
  l.observe({{100, {{"app", counters(40)}}}});
  EXPECT_EQ(l.take()["app"].requests, 15u);
}

// A reload: the old worker (pid 100) keeps counting its last requests while the new one (200) starts from zero.
// Every request is counted once, in the worker that handled it; the old worker gone is forgotten.
TEST(LoadLedger, AReloadCountsBothWorkersOnce) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(1000)}}}});
  l.observe({{100, {{"app", counters(1500)}}}, {200, {{"app", counters(40)}}}});
  l.observe({{100, {{"app", counters(1503)}}}, {200, {{"app", counters(90)}}}});
  l.observe({{200, {{"app", counters(200)}}}});
  EXPECT_EQ(l.take()["app"].requests, 503u + 200u);
}

// The new worker already counted more than the old one had: still all new, told apart by the pid, not by the value.
TEST(LoadLedger, ANewWorkerIsToldByItsPidNotByItsCount) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(10)}}}});
  l.observe({{200, {{"app", counters(5000)}}}});
  EXPECT_EQ(l.take()["app"].requests, 5000u);
}

// During a reload only the worker answering the runtime socket is read (a partial sample): the workers it lacks
// are kept, so the old worker read again by the next complete sample is not counted twice.
TEST(LoadLedger, APartialSampleForgetsNoWorker) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(1000)}}}, {50, {{"app", counters(7)}}}});
  l.observe({{100, {{"app", counters(1200)}}}}, /*complete=*/false);
  l.observe({{100, {{"app", counters(1210)}}}, {50, {{"app", counters(8)}}}, {200, {{"app", counters(30)}}}});
  EXPECT_EQ(l.take()["app"].requests, 210u + 1u + 30u);
}

TEST(LoadLedger, ClearedCountersCountFromZero) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(900, 50)}}}});
  l.observe({{100, {{"app", counters(30, 1)}}}});  // "clear counters" between the samples
  auto p = l.take();
  EXPECT_EQ(p["app"].requests, 30u);
  EXPECT_EQ(p["app"].responses_5xx, 1u);
}

TEST(LoadLedger, ABackendAddedByAReloadCountsFromZero) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(10)}}}});
  l.observe({{100, {{"app", counters(20)}, {"api", counters(7)}}}});
  auto p = l.take();
  EXPECT_EQ(p["app"].requests, 10u);
  EXPECT_EQ(p["api"].requests, 7u);
}

TEST(LoadLedger, QueueIsAGaugeSummedOverWorkers) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(0, 0, 9)}}}});  // the baseline's queue is before the period
  l.observe({{100, {{"app", counters(0, 0, 2)}}}, {200, {{"app", counters(0, 0, 3)}}}});
  l.observe({{200, {{"app", counters(0, 0, 1)}}}});
  auto q = l.take()["app"].queued;
  EXPECT_EQ(q.count, 2u);
  EXPECT_DOUBLE_EQ(q.sum, 6.0);
  EXPECT_DOUBLE_EQ(q.min, 1.0);
  EXPECT_DOUBLE_EQ(q.max, 5.0);
}

TEST(LoadLedger, ResponseTimeIsWeightedByTheRequestsThatEnded) {
  LoadLedger l;
  l.observe({{100, {{"app", counters(0)}}}});
  l.observe({{100, {{"app", counters(100, 0, 0, 20)}}}});  // 100 requests at ~20 ms
  l.observe({{100, {{"app", counters(400, 0, 0, 40)}}}});  // 300 more at ~40 ms
  l.observe({{100, {{"app", counters(400, 0, 0, 90)}}}});  // none ended: the gauge's value weighs nothing
  auto p = l.take();
  std::vector<BackendSpec> specs(1);
  specs[0].backend = "app";
  specs[0].group = "app-asg";
  auto g = group_loads(p, specs, {});
  ASSERT_EQ(g.size(), 1u);
  ASSERT_TRUE(g[0].response_seconds.has_value());
  EXPECT_DOUBLE_EQ(*g[0].response_seconds, (100 * 20 + 300 * 40) / 400.0 / 1000.0);
}

BackendSpec spec(std::string backend, std::string group) {
  BackendSpec s;
  s.backend = std::move(backend);
  s.group = std::move(group);
  return s;
}

TEST(GroupLoads, BackendsOfOneGroupAddUpAndAGroupWithoutTrafficIsStillThere) {
  std::map<std::string, BackendLoad> p;
  p["http"].requests = 70;
  p["http"].responses_5xx = 1;
  p["https"].requests = 30;
  p["https"].responses_5xx = 2;
  auto g = group_loads(p, {spec("http", "web"), spec("https", "web"), spec("api", "api-asg")},
                       {{"web", HostCounts{4, 1}}});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].group, "web");
  EXPECT_EQ(g[0].requests, 100u);
  EXPECT_EQ(g[0].responses_5xx, 3u);
  EXPECT_EQ(g[0].hosts, (HostCounts{4, 1}));
  EXPECT_EQ(g[1].group, "api-asg");
  EXPECT_EQ(g[1].requests, 0u);
  EXPECT_FALSE(g[1].response_seconds.has_value()) << "no request ended: no response time, as ELB";
}

ActualServer server(std::string name, AdminState admin, bool up) {
  ActualServer s;
  s.name = std::move(name);
  s.admin = admin;
  s.up = up;
  return s;
}

Member member(std::string id, bool served) {
  Member m;
  m.instance_id = std::move(id);
  m.served = served;
  m.lifecycle_state = served ? "InService" : "Terminating:Wait";
  return m;
}

TEST(CountHosts, HealthyUnhealthyAndNeither) {
  GroupMembers g{"web", true,
                 {member("i-1", true), member("i-2", true), member("i-3", true), member("i-4", true),
                  member("i-5", false), member("i-6", true)}};
  ActualBackend a{"http",
                  true,
                  {server("i-1", AdminState::Ready, true), server("i-2", AdminState::Ready, false),
                   server("i-3", AdminState::Drain, true), server("i-4", AdminState::Maint, false),
                   server("i-5", AdminState::Ready, true)}};
  // i-1 up: healthy; i-2 down: unhealthy; i-3 draining, i-4 in maintenance: neither; i-5 leaving the group: neither;
  // i-6 not in HAProxy yet: neither.
  auto c = count_hosts({g}, {spec("http", "web")}, {a});
  EXPECT_EQ(c["web"], (HostCounts{1, 1}));
}

TEST(CountHosts, DownInOneOfTwoBackendsIsUnhealthy) {
  GroupMembers g{"web", true, {member("i-1", true), member("i-2", true)}};
  ActualBackend http{"http", true, {server("i-1", AdminState::Ready, true), server("i-2", AdminState::Ready, true)}};
  ActualBackend https{"https", true, {server("i-1", AdminState::Ready, true), server("i-2", AdminState::Ready, false)}};
  auto c = count_hosts({g}, {spec("http", "web"), spec("https", "web")}, {http, https});
  EXPECT_EQ(c["web"], (HostCounts{1, 1}));
}

}  // namespace
}  // namespace hasg::core
