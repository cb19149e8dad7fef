// Several load balancers in front of one group (cluster: {group, node_id}), end to end with the real HAProxy 2.6,
// `haproxy-asg run` and the simulator. The other node of the cluster is played by the test through EC2's API, as a
// second daemon would act: its drain record is a tag on the departing instance. The daemon drains and removes the
// leaving server, records "drained by this node", keeps the hook alive with heartbeats while the other node has not
// recorded its drain, and completes it (CONTINUE) once it has, or once that node left the cluster group. One test
// runs two real nodes (two HAProxies, two daemons) that both complete the same hook at once.
#include <regex>

#include "hook_rig.h"

namespace hasg::test {
namespace {

class ClusterE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }

  // A rig of two app instances with a termination hook, and a cluster group "lb" of two nodes: this daemon is the
  // first, the test plays the second (without `cluster`: the same rig, the daemon's YAML without the key).
  std::unique_ptr<HookRig> make_rig(int net, const std::string& drain_timeout = "60s", bool cluster = true) {
    HookRigOptions o;
    o.net = net;
    o.http_checks = false;
    o.drain_timeout = drain_timeout;  // 60 s: far away, a completion here is never the timeout's
    o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
    auto r = std::make_unique<HookRig>(o);
    r->put_hook("drain", sim::kTerminatingTransition, 30);  // heartbeats every 10 s
    EXPECT_TRUE(r->sim().create_group("lb", 2).ok());
    auto nodes = r->sim().instances("lb");
    self_ = nodes[0].id;
    other_ = nodes[1].id;
    if (cluster) add_cluster(*r, self_);
    return r;
  }

  // The drain records (tag keys) on `instance`, read with DescribeTags as any node reads them.
  static std::set<std::string> records(HookRig& r, const std::string& instance) {
    auto a = r.ec2("DescribeTags", {{"Filter.1.Name", "resource-id"}, {"Filter.1.Value.1", instance}});
    std::set<std::string> out;
    std::regex key("<key>(haproxy-asg:drained:[^<]*)</key>");
    for (std::sregex_iterator it(a.body.begin(), a.body.end(), key), end; it != end; ++it) out.insert((*it)[1]);
    return out;
  }

  double cycles(HookRig& r) { return r.metric("haproxy_asg_cycles_total", {{"outcome", "ok"}}); }
  // A counter of /metrics, 0 while it has no series.
  static double count(const HookRig& r, const std::string& name, const std::map<std::string, std::string>& labels) {
    return std::max(0.0, r.metric(name, labels));
  }
  static void add_cluster(HookRig& r, const std::string& node_id) {
    write_file(r.yaml_path(), read_file(r.yaml_path()) + "cluster:\n  group: lb\n  node_id: " + node_id + "\n");
  }
  static size_t occurrences(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  std::string self_, other_;
};

TEST_F(ClusterE2E, CompletesOnlyOnceTheOtherNodeRecordedItsDrain) {
  auto r = make_rig(81);
  r->start_haproxy();
  r->start_daemon();
  ASSERT_TRUE(wait_until([&] { return r->converged() && r->rig().ready_servers().size() == 2; })) << r->log();

  const std::string leaving = r->newest();
  ASSERT_TRUE(r->sim().set_desired("app", 1).ok());
  // Drained (no request in flight), removed, and our record written on the instance.
  ASSERT_TRUE(wait_until([&] { return records(*r, leaving).contains("haproxy-asg:drained:" + self_); }, 10s))
      << r->log();
  EXPECT_FALSE(r->rig().haproxy_servers().contains(leaving));
  EXPECT_EQ(records(*r, leaving).size(), 1u);
  // Several cycles later the hook still waits for the other node, kept alive by our heartbeats.
  const double before = cycles(*r);
  ASSERT_TRUE(wait_until([&] { return cycles(*r) >= before + 3; }, 10s)) << r->log();
  EXPECT_FALSE(r->completed(leaving)) << r->log();
  ASSERT_TRUE(r->action(leaving));
  EXPECT_GE(r->action(leaving)->heartbeats, 1);
  EXPECT_EQ(r->metric("haproxy_asg_cluster_records_total", {{"outcome", "ok"}}), 1) << "written once";

  // The other node is done too: its record makes this daemon complete the hook.
  const auto recorded = SteadyClock::now();
  auto a = r->ec2("CreateTags", {{"ResourceId.1", leaving},
                                 {"Tag.1.Key", "haproxy-asg:drained:" + other_},
                                 {"Tag.1.Value", "2026-12-01T00:00:00Z"}});
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_TRUE(wait_until([&] { return r->completed(leaving); }, 5s)) << r->log();
  EXPECT_EQ(r->action(leaving)->completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(r->action(leaving)->result, "CONTINUE");
  EXPECT_LT(ms_between(recorded, *r->action(leaving)->completed), 2500) << "within a cycle or two (interval 1 s)";
  // The daemon logs its completion once AWS answered it: after the simulator has the action completed.
  EXPECT_TRUE(wait_until(
      [&] { return r->log().find("every other node of the cluster drained it too (" + other_ + ")") != std::string::npos; },
      5s))
      << r->log();
}

TEST_F(ClusterE2E, ANodeLeavingTheClusterMidDrainIsNoLongerWaitedFor) {
  auto r = make_rig(82);
  r->start_haproxy();
  r->start_daemon();
  ASSERT_TRUE(wait_until([&] { return r->converged() && r->rig().ready_servers().size() == 2; })) << r->log();

  const std::string leaving = r->newest();
  ASSERT_TRUE(r->sim().set_desired("app", 1).ok());
  ASSERT_TRUE(wait_until([&] { return records(*r, leaving).contains("haproxy-asg:drained:" + self_); }, 10s))
      << r->log();
  EXPECT_FALSE(r->completed(leaving));
  // The other balancer goes to Standby (out of InService): nobody else serves the instance any more.
  ASSERT_TRUE(r->sim().set_lifecycle(other_, "Standby").ok());
  ASSERT_TRUE(wait_until([&] { return r->completed(leaving); }, 5s)) << r->log();
  EXPECT_EQ(r->action(leaving)->completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(r->action(leaving)->result, "CONTINUE");
}

// A cluster of one (this node alone InService) behaves exactly as without `cluster`: the same AWS calls (no tag
// call), and the hook completed in the very cycle that removed the drained server, as without `cluster`.
TEST_F(ClusterE2E, AClusterOfOneBehavesExactlyAsWithoutCluster) {
  struct Seen {
    std::set<std::string> actions;  // the AWS calls the daemon made
    uint64_t completions = 0, heartbeats = 0;
    std::string reason;  // of the completion, in the daemon's log
  };
  auto scale_in = [&](int net, bool cluster) {
    Seen seen;
    auto r = make_rig(net, "60s", cluster);
    EXPECT_TRUE(r->sim().set_lifecycle(other_, "Standby").ok());  // only this node is InService
    r->start_haproxy();
    r->start_daemon();
    if (!wait_until([&] { return r->converged() && r->rig().ready_servers().size() == 2; })) {
      ADD_FAILURE() << r->log();
      return seen;
    }
    const std::string leaving = r->newest();
    EXPECT_TRUE(r->sim().set_desired("app", 1).ok());
    if (!wait_until([&] { return r->completed(leaving); }, 10s)) {
      ADD_FAILURE() << "not completed\n" << r->log();
      return seen;
    }
    EXPECT_EQ(r->action(leaving)->completed_by, "CompleteLifecycleAction");
    const double c = cycles(*r);
    EXPECT_TRUE(wait_until([&] { return cycles(*r) >= c + 2; })) << "two more cycles: any later call counts too";
    for (const auto& [action, n] : r->sim().all_calls()) seen.actions.insert(action);
    seen.completions = r->sim().calls("CompleteLifecycleAction");
    seen.heartbeats = r->sim().calls("RecordLifecycleActionHeartbeat");
    std::smatch m;
    const std::string log = r->log();
    if (std::regex_search(log, m, std::regex("lifecycle hook drain of app completed for " + leaving +
                                             " with CONTINUE \\(([^)]*)\\)")))
      seen.reason = m[1];
    EXPECT_TRUE(records(*r, leaving).empty());  // the test's own DescribeTags, after the daemon's calls were read
    return seen;
  };
  const Seen one = scale_in(83, true);
  const Seen plain = scale_in(186, false);
  EXPECT_EQ(one.actions, plain.actions);
  EXPECT_FALSE(one.actions.contains("CreateTags"));
  EXPECT_FALSE(one.actions.contains("DescribeTags")) << "a cluster of one reads no records";
  EXPECT_EQ(one.completions, 1u);
  EXPECT_EQ(plain.completions, 1u);
  EXPECT_EQ(one.heartbeats, plain.heartbeats);
  EXPECT_EQ(plain.reason, "drained and removed") << "completed in the cycle that removed the server";
  EXPECT_EQ(one.reason, plain.reason);
}

TEST_F(ClusterE2E, ANodeThatNeverFinishesIsWaitedForUntilTheDrainTimeout) {
  auto r = make_rig(185, "3s");
  r->start_haproxy();
  r->start_daemon();
  ASSERT_TRUE(wait_until([&] { return r->converged() && r->rig().ready_servers().size() == 2; })) << r->log();

  const std::string leaving = r->newest();
  ASSERT_TRUE(r->sim().set_desired("app", 1).ok());
  ASSERT_TRUE(wait_until([&] { return records(*r, leaving).contains("haproxy-asg:drained:" + self_); }, 10s))
      << r->log();
  EXPECT_FALSE(r->completed(leaving)) << "the other node has not drained it";
  // The other node never records its drain: the wait ends at the drain timeout, counted from this node's first
  // sight of the wait, plus two polling intervals (the other node may have seen the wait an interval later).
  ASSERT_TRUE(wait_until([&] { return r->completed(leaving); }, 15s)) << r->log();
  const auto a = *r->action(leaving);
  EXPECT_EQ(a.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(a.result, "CONTINUE");
  EXPECT_GE(a.heartbeats, 1) << "the hook is kept alive while waiting";
  EXPECT_GE(ms_between(a.entered_wait, *a.completed), 3000 + 2 * 1000 - 50) << "not before the drain timeout";
  EXPECT_EQ(records(*r, leaving), std::set<std::string>{"haproxy-asg:drained:" + self_});
  EXPECT_NE(r->log().find("drain timeout 3s passed waiting for node " + other_), std::string::npos) << r->log();
}

// Two real load balancers of one cluster, each its own HAProxy and `haproxy-asg run`, finish draining the same
// instance at the same moment: each writes its record before it can see the other's, then both find every record
// and both call CompleteLifecycleAction. AWS completes the action once and answers the second call with a
// ValidationError "No active Lifecycle Action found with instance ID ..." (the answer AWS gives a completion of an
// action no longer active, as seen in the wild: convox/rack#2432, department-of-veterans-affairs/va.gov-cms#1719),
// which the second node takes as "completed elsewhere". The test makes the race certain, not lucky: the interval is
// long and the test starts both nodes' cycles at once (SIGHUP runs a cycle at once), and EC2 answers DescribeTags
// one second late (the simulator reads the tags when the call arrives and answers later), so each node reads the
// records, and in the second round the group's state, before either's write or completion lands.
TEST_F(ClusterE2E, TwoNodesCompletingAtOnceCompleteTheHookOnceAndCarryOn) {
  HookRigOptions o;
  o.net = 184;
  o.desired = 3;  // 3 -> 2 -> 1: one removal of a backend's servers is never more than max_remove_share's 50 %
  o.http_checks = false;
  o.interval = "60s";  // only the test's SIGHUPs (and the drain watch) run cycles while the race is staged
  o.drain_timeout = "60s";
  o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
  auto a = std::make_unique<HookRig>(o);
  auto b = std::make_unique<HookRig>(o, &a->sim());
  a->put_hook("drain", sim::kTerminatingTransition, 300);  // heartbeats every 100 s: none wakes a cycle here
  ASSERT_TRUE(a->sim().create_group("lb", 2).ok());
  const auto nodes = a->sim().instances("lb");
  add_cluster(*a, nodes[0].id);
  add_cluster(*b, nodes[1].id);
  for (HookRig* r : {a.get(), b.get()}) {
    r->start_haproxy();
    r->start_daemon();
  }
  ASSERT_TRUE(wait_until([&] { return a->converged() && b->converged() && a->rig().ready_servers().size() == 3; }))
      << a->log() << b->log();
  auto both = [&](auto f) { return f(*a) && f(*b); };
  auto cycle_both_now = [&] {
    a->daemon().signal(SIGHUP);
    b->daemon().signal(SIGHUP);
  };

  const std::string leaving = a->newest();
  a->sim().inject(sim::Fault{"DescribeTags", sim::Fault::Kind::Slow, -1, 1000});
  ASSERT_TRUE(a->sim().set_desired("app", 2).ok());
  cycle_both_now();
  // Both drain and remove it, and both write their record, neither having seen the other's.
  auto recorded = [](HookRig& r) { return count(r, "haproxy_asg_cluster_records_total", {{"outcome", "ok"}}) == 1; };
  ASSERT_TRUE(wait_until([&] { return both(recorded); }, 15s)) << a->log() << b->log();
  EXPECT_FALSE(a->rig().haproxy_servers().contains(leaving));
  EXPECT_FALSE(b->rig().haproxy_servers().contains(leaving));
  EXPECT_EQ(a->sim().calls("CompleteLifecycleAction"), 0u) << "neither saw the other's record yet";

  // Both see both records in the same moment: both complete.
  cycle_both_now();
  auto outcomes = [&](const std::string& outcome) {
    return count(*a, "haproxy_asg_lifecycle_actions_total", {{"outcome", outcome}}) +
           count(*b, "haproxy_asg_lifecycle_actions_total", {{"outcome", outcome}});
  };
  ASSERT_TRUE(wait_until([&] { return outcomes("ok") + outcomes("already") == 2; }, 15s)) << a->log() << b->log();
  EXPECT_EQ(a->sim().calls("CompleteLifecycleAction"), 2u);
  EXPECT_EQ(outcomes("ok"), 1) << "AWS completed it once";
  EXPECT_EQ(outcomes("already"), 1) << "the other node was told there is no active action";
  const auto actions = a->sim().lifecycle_actions(leaving);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(actions[0].result, "CONTINUE");
  const std::string logs = a->log() + b->log();
  EXPECT_EQ(occurrences(logs, "lifecycle hook drain of app completed for " + leaving + " with CONTINUE"), 1u) << logs;
  EXPECT_EQ(occurrences(logs, "lifecycle hook drain of app: no action waits for " + leaving +
                                  " any more (completed elsewhere)"),
            1u)
      << logs;
  // The second answer, as a client sees it: AWS's ValidationError for an action no longer active.
  auto again = a->autoscaling("CompleteLifecycleAction", {{"LifecycleHookName", "drain"},
                                                          {"AutoScalingGroupName", "app"},
                                                          {"LifecycleActionResult", "CONTINUE"},
                                                          {"InstanceId", leaving}});
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("<Code>ValidationError</Code>"), std::string::npos) << again.body;
  EXPECT_NE(again.body.find("No active Lifecycle Action found with instance ID " + leaving), std::string::npos)
      << again.body;
  auto gone = [&](const std::string& id) {
    const auto v = a->sim().instances("app");
    return std::none_of(v.begin(), v.end(), [&](const auto& i) { return i.id == id; });
  };
  ASSERT_TRUE(wait_until([&] { return gone(leaving); })) << leaving << " terminated";
  EXPECT_TRUE(both([](HookRig& r) { return count(r, "haproxy_asg_cycles_total", {{"outcome", "error"}}) == 0; }))
      << "the answer is no error";

  // Both carry on: at a 1 s interval, with EC2 at its usual speed, the next scale-in completes as usual.
  a->sim().clear_faults();
  for (HookRig* r : {a.get(), b.get()})
    write_file(r->yaml_path(),
               std::regex_replace(read_file(r->yaml_path()), std::regex("interval: 60s"), "interval: 1s"));
  cycle_both_now();
  const std::string next = a->newest();
  ASSERT_NE(next, leaving);
  ASSERT_TRUE(a->sim().set_desired("app", 1).ok());
  ASSERT_TRUE(wait_until([&] { return a->completed(next); }, 15s)) << a->log() << b->log();
  EXPECT_EQ(a->action(next)->completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(a->action(next)->result, "CONTINUE");
  auto served_one = [](HookRig& r) { return r.converged() && r.rig().haproxy_servers().size() == 1; };
  ASSERT_TRUE(wait_until([&] { return both(served_one); })) << a->log() << b->log();
  EXPECT_TRUE(both([](HookRig& r) { return count(r, "haproxy_asg_cycles_total", {{"outcome", "error"}}) == 0; }));
  EXPECT_TRUE(both([](HookRig& r) { return r.http("/healthz").exit_code == 0; }));
}

}  // namespace
}  // namespace hasg::test
