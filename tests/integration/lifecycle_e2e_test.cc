// Issue 8 end to end: the group's lifecycle hooks against the real HAProxy 2.6 and the simulator. A scale-in with a
// termination hook drains at once, lets in-flight requests finish and then completes the hook (CONTINUE) within a
// fraction of a second of the last response; long drains keep the hook alive with heartbeats; a hook completed by
// someone else is "already", not a failure; a launch hook keeps a new server out of rotation until a check passed
// (CONTINUE), or ABANDONs it after launch_timeout; departures the group announces skip the removal cap.
#include <nlohmann/json.hpp>

#include "aws/context.h"
#include "config/config.h"
#include "daemon/aws_lifecycle.h"
#include "daemon/syncer.h"
#include "discovery/aws_discovery.h"
#include "hook_rig.h"

namespace hasg::test {
namespace {

class LifecycleE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }
};

const std::map<std::string, std::string> kDrainOk = {{"hook", "drain"}, {"result", "CONTINUE"}, {"outcome", "ok"}};

TEST_F(LifecycleE2E, ScaleInDrainsAtOnceLetsRequestsFinishThenContinues) {
  HookRigOptions o;
  o.net = 61;
  o.delay_ms = 2500;  // every answer takes 2.5 s: requests are in flight when the scale-in comes
  o.terminating = 300ms;
  o.http_checks = false;
  o.drain_timeout = "10s";
  o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
  HookRig r(o);
  r.put_hook("drain", sim::kTerminatingTransition);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 2; })) << r.log();

  const std::string leaving = r.newest();
  // Four requests through HAProxy: round robin puts two on each server.
  std::vector<std::future<ClientAnswer>> answers;
  for (int i = 0; i < 4; ++i) answers.push_back(r.request_async());
  ASSERT_TRUE(wait_until([&] { return r.stat(leaving).scur >= 1; }, 2s)) << "a request is open on " << leaving;

  const auto scaled = SteadyClock::now();
  ASSERT_TRUE(r.sim().set_desired("app", 1).ok());
  ASSERT_TRUE(wait_until([&] { return r.rig().haproxy_servers()[leaving].ends_with(" drain"); }, 3s)) << r.log();
  const double drained_ms = ms_between(scaled, SteadyClock::now());
  EXPECT_LT(drained_ms, 1500) << "drained by the first cycle after the scale-in (interval 1 s)";
  EXPECT_GE(r.stat(leaving).scur, 1) << "the drain started while the request was still in flight";
  EXPECT_FALSE(r.completed(leaving)) << "not completed while a request is in flight";

  SteadyClock::time_point last_answer{};
  int from_leaving = 0;
  for (auto& f : answers) {
    ClientAnswer a = f.get();
    EXPECT_EQ(a.result.exit_code, 0) << a.result.err;
    std::string body = a.result.out;
    if (!body.empty() && body.back() == '\n') body.pop_back();
    EXPECT_TRUE(body.starts_with("i-")) << "the full answer: " << a.result.out;
    if (body == leaving) ++from_leaving;
    last_answer = std::max(last_answer, a.ended);
  }
  EXPECT_GE(from_leaving, 1) << "the leaving instance answered its in-flight request in full";

  ASSERT_TRUE(wait_until([&] { return r.completed(leaving); }, 5s)) << r.log();
  auto act = *r.action(leaving);
  EXPECT_EQ(act.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(act.result, "CONTINUE");
  EXPECT_EQ(act.hook, "drain");
  // Completed after the last response (curl's exit is noticed a little after HAProxy closed the session), and soon
  // after it: the drain watch looks every 200 ms, not every interval.
  const double after_last_ms = ms_between(last_answer, *act.completed);
  EXPECT_GT(after_last_ms, -150) << "completed before the last response ended";
  EXPECT_LT(after_last_ms, 1000) << "completion follows the last response within a fraction of a second";
  EXPECT_EQ(r.timeouts(), 0);
  EXPECT_TRUE(wait_until([&] { return r.metric("haproxy_asg_lifecycle_actions_total", kDrainOk) == 1; }, 3s))
      << r.http("/metrics").out;
  EXPECT_FALSE(r.rig().haproxy_servers().contains(leaving));
  EXPECT_EQ(r.rig().reloads(), 0);
}

// The daemon's view of a hook's heartbeat timeout in the simulator's time: the simulator shrinks hook seconds
// (SimOptions::hook_second), the daemon reads HeartbeatTimeout in real seconds. Everything else is the real
// AwsLifecycleControl against the simulator.
class SimTimeLifecycle : public daemon::LifecycleControl {
 public:
  SimTimeLifecycle(daemon::LifecycleControl& real, std::chrono::milliseconds hook_second)
      : real_(real), hook_second_(hook_second) {}
  Status complete(const std::string& g, const std::string& h, const std::string& i, const std::string& r) override {
    return real_.complete(g, h, i, r);
  }
  Status heartbeat(const std::string& g, const std::string& h, const std::string& i) override {
    return real_.heartbeat(g, h, i);
  }
  std::chrono::milliseconds heartbeat_timeout(const std::string& g, const std::string& h) override {
    return real_.heartbeat_timeout(g, h) * hook_second_.count() / 1000;
  }
  Status report_unhealthy(const std::string& i) override { return real_.report_unhealthy(i); }

 private:
  daemon::LifecycleControl& real_;
  std::chrono::milliseconds hook_second_;
};

TEST_F(LifecycleE2E, HeartbeatsKeepALongDrainAliveUntilDrainTimeoutThenContinue) {
  // HeartbeatTimeout 30 (AWS's least) hook seconds of 100 ms: 3 s. A request open for 6 s keeps the drain going until
  // drain_timeout (4 s), longer than the heartbeat timeout: without heartbeats the simulator would ABANDON at 3 s.
  HookRigOptions o;
  o.net = 62;
  o.delay_ms = 6000;
  o.hook_second = 100ms;
  o.terminating = 300ms;
  o.http_checks = false;
  o.drain_timeout = "4s";
  o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
  HookRig r(o);
  r.put_hook("drain", sim::kTerminatingTransition, 30);
  r.start_haproxy();

  // The cycle as the daemon runs it (in process, so the hook's timeout can be read in simulator time).
  auto cfg = config::load_config(r.yaml_path());
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : sim_env(r.sim())) env[k] = v;
  auto aws = discovery::AwsDiscovery::from_environment(std::make_unique<aws::MapEnvironment>(env));
  ASSERT_TRUE(aws.ok()) << aws.error().message;
  daemon::AwsLifecycleControl real((*aws)->aws().lifecycle());
  SimTimeLifecycle lifecycle(real, o.hook_second);
  auto edges = daemon::make_sync_edges(*cfg, (*aws)->provider(), &lifecycle);
  core::SyncState state;
  std::map<std::string, int> outcomes;  // "heartbeat ok", "complete CONTINUE ok", ...
  auto cycle = [&] {
    auto out = edges.syncer->run(state, false);
    ASSERT_TRUE(out.report.ok()) << out.report.error().message;
    state = std::move(out.state);
    for (const auto& l : out.report->lifecycle)
      ++outcomes[std::string(core::to_string(l.op.kind)) + " " + l.op.result + (l.op.result.empty() ? "" : " ") +
                 l.outcome];
  };
  cycle();
  ASSERT_TRUE(r.converged());

  const std::string leaving = r.newest();
  std::vector<std::future<ClientAnswer>> answers;
  for (int i = 0; i < 4; ++i) answers.push_back(r.request_async(12));
  ASSERT_TRUE(wait_until([&] { return r.stat(leaving).scur >= 1; }, 2s));
  ASSERT_TRUE(r.sim().set_desired("app", 1).ok());
  // Cycles back to back until the hook is done (the daemon runs one when a heartbeat is due).
  ASSERT_TRUE(wait_until(
      [&] {
        cycle();
        return r.completed(leaving);
      },
      10s));
  auto act = *r.action(leaving);
  EXPECT_EQ(act.completed_by, "CompleteLifecycleAction") << "not timed out";
  EXPECT_EQ(act.result, "CONTINUE");
  EXPECT_GE(act.heartbeats, 2) << "a heartbeat every half heartbeat timeout (1.5 s) during a 4 s drain";
  EXPECT_GE(outcomes["heartbeat ok"], 2);
  EXPECT_EQ(outcomes["complete-lifecycle CONTINUE ok"], 1);
  const double waited_ms = ms_between(act.entered_wait, *act.completed);
  EXPECT_GT(waited_ms, 3000 + 500) << "the action outlived its heartbeat timeout";
  EXPECT_GE(waited_ms, 4000) << "it ended with drain_timeout";
  EXPECT_LT(waited_ms, 6000);
  EXPECT_EQ(r.timeouts(), 0);
  EXPECT_FALSE(r.rig().haproxy_servers().contains(leaving));
  for (auto& f : answers) f.wait();  // the drain timeout cut the ones on the leaving server: that is its job
}

TEST_F(LifecycleE2E, AHookCompletedElsewhereMidCycleCountsAsAlready) {
  // The race made certain: discovery (the daemon's snapshot of Terminating:Wait) answers slowly, and while it is on
  // its way back an operator completes the action. The daemon's own completion then meets "no active lifecycle
  // action": outcome "already", nothing fails, the server is removed.
  HookRigOptions o;
  o.net = 63;
  o.interval = "30s";  // no timed cycle in this test: the scale-in is noticed through SIGHUP, then the drain watch
  o.terminating = 5s;
  o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
  HookRig r(o);
  r.put_hook("drain", sim::kTerminatingTransition);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 2; })) << r.log();

  const uint64_t before = r.sim().calls("DescribeAutoScalingGroups");
  r.sim().inject({"DescribeAutoScalingGroups", sim::Fault::Kind::Slow, 2, 1500});
  ASSERT_TRUE(r.sim().set_desired("app", 1).ok());
  const std::string leaving = r.newest();
  r.daemon().signal(SIGHUP);  // cycle 1: drains `leaving`; 200 ms later the drain watch wakes cycle 2
  ASSERT_TRUE(wait_until([&] { return r.sim().calls("DescribeAutoScalingGroups") >= before + 2; }, 8s)) << r.log();
  EXPECT_TRUE(r.rig().haproxy_servers()[leaving].ends_with(" drain"));
  // Cycle 2's discovery has seen Terminating:Wait and is on its way back: complete the action ourselves.
  auto done = r.autoscaling("CompleteLifecycleAction", {{"AutoScalingGroupName", "app"},
                                                         {"LifecycleHookName", "drain"},
                                                         {"InstanceId", leaving},
                                                         {"LifecycleActionResult", "CONTINUE"}});
  ASSERT_EQ(done.status, 200) << done.body;

  ASSERT_TRUE(wait_until(
      [&] {
        return r.metric("haproxy_asg_lifecycle_actions_total",
                        {{"hook", "drain"}, {"result", "CONTINUE"}, {"outcome", "already"}}) == 1;
      },
      6s))
      << r.log();
  EXPECT_EQ(r.metric("haproxy_asg_lifecycle_actions_total", kDrainOk), -1);
  EXPECT_EQ(r.sim().calls("CompleteLifecycleAction"), 2u) << "ours and the daemon's, no retries";
  auto act = *r.action(leaving);
  EXPECT_EQ(act.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(act.result, "CONTINUE");
  EXPECT_EQ(r.metric("haproxy_asg_cycles_total", {{"outcome", "error"}}), -1) << r.log();
  EXPECT_EQ(r.metric("haproxy_asg_errors_total"), -1);
  EXPECT_TRUE(wait_until([&] { return !r.rig().haproxy_servers().contains(leaving); }, 3s));
  EXPECT_NE(r.log().find("completed elsewhere"), std::string::npos) << r.log();
  EXPECT_TRUE(r.daemon().alive());
}

TEST_F(LifecycleE2E, LaunchHookHoldsANewServerUntilACheckPassedThenContinues) {
  HookRigOptions o;
  o.net = 64;
  o.desired = 1;
  o.backend_yaml = "    lifecycle_hooks:\n      launching: launch\n    launch_timeout: 5s\n";
  HookRig r(o);
  r.put_hook("launch", sim::kLaunchingTransition);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 1; })) << r.log();
  const std::string old = *r.rig().ready_servers().begin();

  ASSERT_TRUE(r.sim().set_desired("app", 2).ok());
  const std::string fresh = r.newest();
  ASSERT_NE(fresh, old);
  ASSERT_EQ(r.sim().instances("app").back().lifecycle, "Pending:Wait");

  // While HAProxy holds it (drain), client requests go on and none reaches it: its session count stays 0 and
  // every answer comes from the old server (its health checks are not sessions).
  int held_looks = 0;
  int answered = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        ServerStat s = r.stat(fresh);
        if (!s.found) return false;
        if (s.status.starts_with("UP")) return true;  // in rotation (DRAIN while held; MAINT or DOWN in between)
        std::string who = r.rig().request();
        ServerStat after = r.stat(fresh);
        if (after.status.starts_with("UP")) return true;  // put in rotation meanwhile: this answer proves nothing
        // Out of rotation before and after the request: the answer came from the old server, and no client
        // session ever reached the new one.
        if (s.status.find("DRAIN") != std::string::npos) ++held_looks;
        EXPECT_EQ(after.stot, 0) << "a client session reached the held server";
        EXPECT_EQ(who, old);
        answered += who == old;
        return false;
      },
      8s))
      << r.log();
  EXPECT_GE(held_looks, 1) << "HAProxy showed the new server held in drain";
  EXPECT_GE(answered, 1);

  ASSERT_TRUE(wait_until([&] { return r.completed(fresh); }, 5s)) << r.log();
  auto act = *r.action(fresh);
  EXPECT_EQ(act.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(act.result, "CONTINUE");
  // Its server had answered a health check before the hook was completed.
  std::optional<SteadyClock::time_point> first_request;
  for (const auto& t : r.sim().instance_times())
    if (t.id == fresh) first_request = t.first_request;
  ASSERT_TRUE(first_request.has_value());
  EXPECT_LT(*first_request, *act.completed);

  ASSERT_TRUE(wait_until([&] { return r.rig().request() == fresh; }, 5s)) << "in rotation after CONTINUE";
  ASSERT_TRUE(wait_until([&] { return r.rig().in_service().contains(fresh) && r.converged(); }, 5s));
  EXPECT_TRUE(wait_until([&] {
    return r.metric("haproxy_asg_lifecycle_actions_total",
                    {{"hook", "launch"}, {"result", "CONTINUE"}, {"outcome", "ok"}}) == 1;
  }, 3s));
  EXPECT_EQ(r.timeouts(), 0);
  EXPECT_EQ(r.rig().reloads(), 0);
}

TEST_F(LifecycleE2E, LaunchHookAbandonsAnInstanceThatNeverComesUp) {
  HookRigOptions o;
  o.net = 65;
  o.desired = 1;
  o.backend_yaml = "    lifecycle_hooks:\n      launching: launch\n    launch_timeout: 3s\n";
  HookRig r(o);
  r.put_hook("launch", sim::kLaunchingTransition);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 1; })) << r.log();
  const std::string old = *r.rig().ready_servers().begin();

  ASSERT_TRUE(r.sim().set_desired("app", 2).ok());
  const std::string dead = r.newest();
  ASSERT_TRUE(r.sim().kill_server(dead).ok());  // before any health check could reach it

  ASSERT_TRUE(wait_until([&] { return r.stat(dead).found; }, 3s)) << "added, held";
  ASSERT_TRUE(wait_until([&] { return r.completed(dead); }, 6s)) << r.log();
  auto act = *r.action(dead);
  EXPECT_EQ(act.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(act.result, "ABANDON");
  const double waited_ms = ms_between(act.entered_wait, *act.completed);
  EXPECT_GE(waited_ms, 3000) << "not before launch_timeout";
  EXPECT_LT(waited_ms, 3000 + 2000) << "soon after it (a timed wake, not the next interval)";
  EXPECT_EQ(r.sim().instance_requests(dead), 0u);
  EXPECT_TRUE(wait_until([&] { return !r.rig().haproxy_servers().contains(dead); }, 5s)) << r.log();
  EXPECT_TRUE(wait_until([&] {
    return r.metric("haproxy_asg_lifecycle_actions_total",
                    {{"hook", "launch"}, {"result", "ABANDON"}, {"outcome", "ok"}}) == 1;
  }, 3s));
  // The group replaces it; the replacement comes up and is let in.
  ASSERT_TRUE(wait_until([&] { return r.rig().in_service().size() == 2 && r.converged(); }, 6s)) << r.log();
  EXPECT_TRUE(r.rig().ready_servers().contains(old));
  EXPECT_EQ(r.timeouts(), 0);
}

// How the action of `instance` on `hook` ended ("" while it waits; "none" when there is no such action).
std::string ended_by(const sim::Simulator& sim, const std::string& instance, const std::string& hook) {
  for (const auto& a : sim.lifecycle_actions(instance))
    if (a.hook == hook) return a.completed ? a.completed_by + " " + a.result : "";
  return "none";
}

TEST_F(LifecycleE2E, OnlyOurHookIsCompletedAndAnInstanceNeverServedAtOnceAlsoInAReloadCycle) {
  // Two termination hooks on the group: ours ("drain") and someone else's ("other", 30 hook seconds of 50 ms). An
  // instance scaled in before HAProxy ever served it is completed at once, here in a cycle that also reloads
  // HAProxy (the template changed); a served one is drained first. "other" is never completed by us: it times
  // out, and its instance is still drained.
  HookRigOptions o;
  o.net = 68;
  o.interval = "30s";  // cycles come from SIGHUP and the drain watch only
  o.hook_second = 50ms;
  o.terminating = 300ms;
  o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
  HookRig r(o);
  r.put_hook("drain", sim::kTerminatingTransition, 3600);
  r.put_hook("other", sim::kTerminatingTransition, 30);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 2; })) << r.log();

  // A launch scaled in at once: HAProxy never served it.
  ASSERT_TRUE(r.sim().set_desired("app", 3).ok());
  const std::string never_served = r.newest();
  ASSERT_TRUE(r.sim().set_desired("app", 2).ok());
  ASSERT_EQ(r.sim().instances("app").back().lifecycle, "Terminating:Wait");
  const std::string tmpl = r.rig().dir().file("haproxy.cfg.template");
  write_file(tmpl, std::regex_replace(read_file(tmpl), std::regex("timeout server 10s"), "timeout server 11s"));
  r.daemon().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return ended_by(r.sim(), never_served, "drain") != ""; }, 5s)) << r.log();
  EXPECT_EQ(ended_by(r.sim(), never_served, "drain"), "CompleteLifecycleAction CONTINUE");
  EXPECT_EQ(r.rig().reloads(), 1) << "the completion came in a reload cycle";
  EXPECT_FALSE(r.rig().haproxy_servers().contains(never_served));

  // A served instance: drained (it is leaving, whichever hook holds it), removed, then only our hook completed.
  const std::string served = *r.rig().ready_servers().rbegin();
  ASSERT_TRUE(r.sim().set_desired("app", 1).ok());
  ASSERT_EQ(ended_by(r.sim(), served, "drain"), "");
  r.daemon().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return ended_by(r.sim(), served, "drain") != ""; }, 5s)) << r.log();
  EXPECT_EQ(ended_by(r.sim(), served, "drain"), "CompleteLifecycleAction CONTINUE");
  EXPECT_FALSE(r.rig().haproxy_servers().contains(served));

  // Someone else's hook runs out its own timeout (1.5 s) for both instances: never completed by haproxy-asg.
  ASSERT_TRUE(wait_until([&] { return ended_by(r.sim(), served, "other") != ""; }, 5s));
  EXPECT_EQ(ended_by(r.sim(), never_served, "other"), "timeout ABANDON");
  EXPECT_EQ(ended_by(r.sim(), served, "other"), "timeout ABANDON");
  EXPECT_EQ(r.sim().calls("CompleteLifecycleAction"), 2u);
  EXPECT_EQ(r.metric("haproxy_asg_lifecycle_actions_total", {{"hook", "other"}}), -1);
  EXPECT_EQ(r.metric("haproxy_asg_lifecycle_actions_total", kDrainOk), 2);
  EXPECT_EQ(r.metric("haproxy_asg_cycles_total", {{"outcome", "error"}}), -1) << r.log();
}

TEST_F(LifecycleE2E, AReloadDuringAHookDrainStillWaitsForTheLastResponse) {
  // A structural change reloads HAProxy while a hook's instance drains. The new worker does not get the draining
  // server (the file holds servers in rotation only); the old worker still serves its in-flight request. The hook
  // must not be completed (and the instance let die) before that request ended: its sessions in the old worker
  // cannot be seen, so the hook waits for drain_timeout (5 s, the request takes 4 s).
  HookRigOptions o;
  o.net = 69;
  o.delay_ms = 4000;
  o.terminating = 300ms;
  o.http_checks = false;
  o.drain_timeout = "5s";
  o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
  HookRig r(o);
  r.put_hook("drain", sim::kTerminatingTransition);
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 2; })) << r.log();
  const std::string leaving = r.newest();
  auto answers = r.scale_in_while_busy(leaving);
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string tmpl = r.rig().dir().file("haproxy.cfg.template");
  write_file(tmpl, std::regex_replace(read_file(tmpl), std::regex("timeout server 10s"), "timeout server 11s"));
  ASSERT_TRUE(wait_until([&] { return r.rig().reloads() == 1; }, 3s)) << r.log();

  SteadyClock::time_point last_answer{};
  for (auto& f : answers) {
    ClientAnswer a = f.get();
    EXPECT_EQ(a.result.exit_code, 0) << "a request cut: " << a.result.err;
    EXPECT_TRUE(a.result.out.starts_with("i-")) << "the full answer: " << a.result.out;
    last_answer = std::max(last_answer, a.ended);
  }
  ASSERT_TRUE(wait_until([&] { return r.completed(leaving); }, 5s)) << r.log();
  auto act = *r.action(leaving);
  EXPECT_EQ(act.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(act.result, "CONTINUE");
  EXPECT_GT(ms_between(last_answer, *act.completed), -150) << "completed while a request was in flight\n" << r.log();
  const double waited_ms = ms_between(act.entered_wait, *act.completed);
  EXPECT_LT(waited_ms, 5000 + 2000) << "completed at the drain timeout";
  EXPECT_EQ(r.timeouts(), 0);
}

// One cycle's ops of `haproxy-asg once --json`, by kind.
std::map<std::string, int> op_counts(const nlohmann::json& j) {
  std::map<std::string, int> out;
  for (const auto& op : j["ops"]) ++out[op["op"].get<std::string>()];
  return out;
}

TEST_F(LifecycleE2E, DeparturesTheGroupAnnouncesSkipTheRemovalCap) {
  // max_remove_share 10% of 5 serving: one server a cycle. Four instances leave at once.
  auto one_cycle_after_scale_in = [](int net, bool hook) {
    HookRigOptions o;
    o.net = net;
    o.desired = 5;
    o.terminating = 5s;  // without a hook, instances sit in Terminating for 5 s (also a departure the group announces)
    o.top_yaml = "max_remove_share: 10%\n";
    if (hook) o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
    HookRig r(o);
    if (hook) r.put_hook("drain", sim::kTerminatingTransition);
    r.start_haproxy();
    EXPECT_EQ(r.rig().ready_servers().size(), 5u);
    EXPECT_TRUE(r.sim().set_desired("app", 1).ok());
    auto res = r.rig().cli({"once", "--json"});
    EXPECT_EQ(res.exit_code, 0) << res.err;
    auto j = nlohmann::json::parse(res.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << res.out;
    int draining = 0;
    for (const auto& [name, v] : r.rig().haproxy_servers()) draining += v.ends_with(" drain");
    return std::tuple{op_counts(j), j["warnings"].dump(), draining};
  };

  auto [with_hook, hook_warnings, hook_draining] = one_cycle_after_scale_in(66, true);
  EXPECT_EQ(with_hook["drain"], 4) << "every instance in Terminating:Wait drained in the first cycle";
  EXPECT_EQ(hook_draining, 4);
  EXPECT_EQ(hook_warnings.find("removal cap"), std::string::npos) << hook_warnings;

  // The same scale-in without a hook and with instances that vanish at once: the cap holds all but one back.
  auto vanish = [](int net) {
    HookRigOptions o;
    o.net = net;
    o.desired = 5;
    o.top_yaml = "max_remove_share: 10%\n";
    HookRig r(o);
    r.start_haproxy();
    EXPECT_TRUE(r.sim().set_desired("app", 1).ok());
    auto res = r.rig().cli({"once", "--json"});
    EXPECT_EQ(res.exit_code, 0) << res.err;
    auto j = nlohmann::json::parse(res.out, nullptr, false);
    return std::pair{op_counts(j), j["warnings"].dump()};
  };
  auto [vanished, vanish_warnings] = vanish(67);
  EXPECT_EQ(vanished["drain"], 1) << "members that vanish without a reason stay under the cap";
  EXPECT_NE(vanish_warnings.find("removal cap held back 3"), std::string::npos) << vanish_warnings;
}

}  // namespace
}  // namespace hasg::test
