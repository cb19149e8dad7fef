// The status view: the group's view beside HAProxy's, where they disagree, drains with their time left, and the
// /status JSON reading back into the same view.
#include <gtest/gtest.h>

#include "daemon/status_view.h"

namespace hasg::daemon {
namespace {

using namespace std::chrono_literals;

core::Member member(const std::string& id, const std::string& lifecycle, const std::string& ip, bool served) {
  core::Member m;
  m.instance_id = id;
  m.group = "app";
  m.lifecycle_state = lifecycle;
  m.health_status = "Healthy";
  m.availability_zone = "us-east-1b";
  m.instance_state = "running";
  m.private_ipv4 = ip;
  m.served = served;
  if (!served) m.not_served_reason = "lifecycle state " + lifecycle;
  return m;
}

core::ActualServer server(const std::string& name, const std::string& ip, core::AdminState admin, bool up) {
  core::ActualServer s;
  s.name = name;
  s.address = ip;
  s.port = 80;
  s.admin = admin;
  s.up = up;
  return s;
}

class StatusViewTest : public ::testing::Test {
 protected:
  StatusViewTest() {
    core::BackendSpec b;
    b.backend = "web";
    b.group = "app";
    b.port = 80;
    b.drain_timeout = 30s;
    cfg.backends = {b};
    report.haproxy_running = true;
    report.groups = {{"app", true, {}}};
    report.actual = {{"web", true, {}}};
  }
  // HAProxy read now: `servers` in backend web, and the statistics `st` for those named in `with_stats`.
  static HaproxyNow live_haproxy(std::vector<core::ActualServer> servers, const haproxy::ServerStats& st = {},
                                 const std::vector<std::string>& with_stats = {}) {
    HaproxyNow live;
    live.running = true;
    live.actual = {{"web", true, std::move(servers)}};
    for (const auto& name : with_stats) live.stats["web/" + name] = st;
    return live;
  }
  const StatusServer& row(const std::vector<StatusBackend>& v, const std::string& name) {
    for (const auto& s : v.at(0).servers)
      if (s.server == name) return s;
    ADD_FAILURE() << "no row " << name;
    static StatusServer none;
    return none;
  }
  config::Config cfg;
  CycleReport report;
  core::TimePoint now = core::TimePoint(std::chrono::seconds(1'800'000'000));
};

TEST_F(StatusViewTest, AgreeingViewsHaveNoMismatch) {
  report.groups[0].members = {member("i-1", "InService", "10.0.0.1", true)};
  report.actual[0].servers = {server("i-1", "10.0.0.1", core::AdminState::Ready, true)};
  auto v = status_view(cfg, report, {nullptr, nullptr, now});
  ASSERT_EQ(v.size(), 1u);
  const auto& s = row(v, "i-1");
  ASSERT_TRUE(s.group && s.haproxy);
  EXPECT_EQ(s.group->zone, "us-east-1b");
  EXPECT_EQ(s.group->health, "Healthy");
  EXPECT_EQ(s.haproxy->address, "10.0.0.1:80");
  EXPECT_TRUE(s.mismatches.empty());
  EXPECT_FALSE(s.drain);
}

TEST_F(StatusViewTest, EachDisagreementIsNamed) {
  report.groups[0].members = {member("i-1", "InService", "10.0.0.1", true),
                              member("i-2", "InService", "10.0.0.2", true),
                              member("i-3", "InService", "10.0.0.3", true),
                              member("i-4", "InService", "10.0.0.4", true),
                              member("i-5", "InService", "10.0.0.5", true), member("i-6", "Standby", "10.0.0.6", false),
                              member("i-7", "Pending:Wait", "10.0.0.7", false),
                              member("i-10", "InService", "10.0.0.10", false)};
  report.groups[0].members.back().not_served_reason = "instance stopped";
  report.actual[0].servers = {server("i-2", "10.0.0.2", core::AdminState::Drain, true),
                              server("i-3", "10.0.0.3", core::AdminState::Ready, false),
                              server("i-4", "10.0.0.9", core::AdminState::Ready, true),
                              server("i-5", "10.0.0.5", core::AdminState::Maint, false),
                              server("i-6", "10.0.0.6", core::AdminState::Ready, true),
                              server("i-7", "10.0.0.7", core::AdminState::Ready, true),
                              server("i-8", "10.0.0.8", core::AdminState::Ready, true),
                              server("i-9", "10.0.0.9", core::AdminState::Drain, true),
                              server("i-10", "10.0.0.10", core::AdminState::Ready, true)};
  auto v = status_view(cfg, report, {nullptr, nullptr, now});
  using V = std::vector<std::string>;
  EXPECT_EQ(row(v, "i-1").mismatches, V{"InService in the group, not in HAProxy"});
  EXPECT_EQ(row(v, "i-2").mismatches, V{"draining in HAProxy while InService"});
  EXPECT_EQ(row(v, "i-3").mismatches, V{"DOWN in HAProxy while InService"});
  EXPECT_EQ(row(v, "i-4").mismatches, V{"address differs: group 10.0.0.4, HAProxy 10.0.0.9"});
  EXPECT_EQ(row(v, "i-5").mismatches, V{"in maintenance in HAProxy while InService"});
  EXPECT_EQ(row(v, "i-6").mismatches, V{"in rotation in HAProxy while Standby"});
  EXPECT_TRUE(row(v, "i-7").mismatches.empty());  // arriving: a launch gate puts it in rotation before InService
  EXPECT_EQ(row(v, "i-8").mismatches, V{"in HAProxy, not in the group"});
  EXPECT_TRUE(row(v, "i-9").mismatches.empty());  // gone from the group and draining: on its way out
  EXPECT_EQ(row(v, "i-10").mismatches, V{"in rotation in HAProxy while InService (instance stopped)"});
}

TEST_F(StatusViewTest, DrainTimeLeftFromTheDrainBook) {
  report.groups[0].members = {member("i-1", "Terminating:Wait", "10.0.0.1", false)};
  report.actual[0].servers = {server("i-1", "10.0.0.1", core::AdminState::Drain, true)};
  core::DrainBook drains{{"web/i-1", {now - 12s}}};
  auto v = status_view(cfg, report, {&drains, nullptr, now});
  const auto& d = row(v, "i-1").drain;
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->estimated);
  EXPECT_DOUBLE_EQ(*d->seconds, 12);
  EXPECT_DOUBLE_EQ(*d->seconds_left, 18);
  EXPECT_DOUBLE_EQ(d->timeout_seconds, 30);
  EXPECT_TRUE(row(v, "i-1").mismatches.empty());  // leaving and draining: as it should be

  core::DrainBook late{{"web/i-1", {now - 45s}}};
  v = status_view(cfg, report, {&late, nullptr, now});
  EXPECT_DOUBLE_EQ(*row(v, "i-1").drain->seconds_left, 0);  // past the timeout: removed at the next cycle
}

TEST_F(StatusViewTest, WithoutTheBookADrainIsEstimatedFromLastchgAndAHeldLaunchIsNoDrain) {
  report.groups[0].members = {member("i-1", "Terminating:Wait", "10.0.0.1", false),
                              member("i-2", "Pending:Wait", "10.0.0.2", false)};
  haproxy::ServerStats st;
  st.status = "DRAIN";
  st.last_change_s = 10;
  st.sessions = 3;
  st.requests = 99;
  HaproxyNow live = live_haproxy({server("i-1", "10.0.0.1", core::AdminState::Drain, true),
                                  server("i-2", "10.0.0.2", core::AdminState::Drain, true)},
                                 st, {"i-1", "i-2"});
  auto v = status_view(cfg, report, {nullptr, &live, now});
  const auto& s1 = row(v, "i-1");
  ASSERT_TRUE(s1.drain);
  EXPECT_TRUE(s1.drain->estimated);
  EXPECT_DOUBLE_EQ(*s1.drain->seconds_left, 20);
  EXPECT_EQ(s1.haproxy->sessions, 3);  // the statistics' sessions, read now
  EXPECT_EQ(s1.haproxy->requests, 99);
  EXPECT_FALSE(row(v, "i-2").drain);  // held for its launch hook, not leaving

  live.stats.clear();  // no statistics: a drain whose start nobody knows
  v = status_view(cfg, report, {nullptr, &live, now});
  ASSERT_TRUE(row(v, "i-1").drain);
  EXPECT_FALSE(row(v, "i-1").drain->seconds_left);
}

TEST_F(StatusViewTest, LiveHaproxyReplacesTheReportsView) {
  report.groups[0].members = {member("i-1", "InService", "10.0.0.1", true)};
  report.haproxy_running = false;  // the report saw no HAProxy; it runs now, with the server added since
  HaproxyNow live = live_haproxy({server("i-1", "10.0.0.1", core::AdminState::Ready, true)});
  auto v = status_view(cfg, report, {nullptr, &live, now});
  EXPECT_TRUE(v[0].haproxy_running);
  EXPECT_TRUE(row(v, "i-1").haproxy);
  EXPECT_TRUE(row(v, "i-1").mismatches.empty());
}

TEST_F(StatusViewTest, JsonReadsBackIntoTheSameView) {
  report.groups[0].members = {member("i-1", "Terminating:Wait", "10.0.0.1", false),
                              member("i-2", "InService", "10.0.0.2", true)};
  report.hooks["app/i-1"] = core::HookWait{"app", "drain-hook", "terminating", now - 5s, now - 5s, false};
  haproxy::ServerStats st{"web", "i-1", "10.0.0.1:80", "DRAIN", 5, 0, 12, 4, "L7OK", "200", 2, ""};
  HaproxyNow live = live_haproxy({server("i-1", "10.0.0.1", core::AdminState::Drain, true),
                                  server("i-3", "10.0.0.3", core::AdminState::Ready, true)},
                                 st, {"i-1"});
  core::DrainBook drains{{"web/i-1", {now - 4s}}};
  auto v = status_view(cfg, report, {&drains, &live, now});
  auto j = status_to_json(v);
  EXPECT_EQ(j[0]["servers"][0]["group"]["zone"], "us-east-1b");
  EXPECT_EQ(j[0]["servers"][0]["haproxy"]["check"]["status"], "L7OK");
  EXPECT_EQ(j[0]["servers"][0]["drain"]["seconds_left"], 26.0);
  auto back = status_from_json(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, v);

  EXPECT_FALSE(status_from_json(nlohmann::json::object()).ok());
  EXPECT_FALSE(status_from_json(nlohmann::json::parse(R"([{"backend": "web"}])")).ok());
}

}  // namespace
}  // namespace hasg::daemon
