// Several load balancers in front of one group (cluster: {group, node_id}), end to end with the real HAProxy 2.6,
// `haproxy-asg run` and the simulator. The other node of the cluster is played by the test through EC2's API, as a
// second daemon would act: its drain record is a tag on the departing instance. The daemon drains and removes the
// leaving server, records "drained by this node", keeps the hook alive with heartbeats while the other node has not
// recorded its drain, and completes it (CONTINUE) once it has, or once that node left the cluster group.
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
  // first, the test plays the second.
  std::unique_ptr<HookRig> make_rig(int net) {
    HookRigOptions o;
    o.net = net;
    o.http_checks = false;
    o.drain_timeout = "60s";  // far away: a completion here is never the timeout's
    o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
    auto r = std::make_unique<HookRig>(o);
    r->put_hook("drain", sim::kTerminatingTransition, 30);  // heartbeats every 10 s
    EXPECT_TRUE(r->sim().create_group("lb", 2).ok());
    auto nodes = r->sim().instances("lb");
    self_ = nodes[0].id;
    other_ = nodes[1].id;
    write_file(r->yaml_path(), read_file(r->yaml_path()) + "cluster:\n  group: lb\n  node_id: " + self_ + "\n");
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
  EXPECT_NE(r->log().find("every other node of the cluster drained it too (" + other_ + ")"), std::string::npos)
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

TEST_F(ClusterE2E, AClusterOfOneCompletesAsWithoutClusterAndWritesNoTag) {
  auto r = make_rig(83);
  ASSERT_TRUE(r->sim().set_lifecycle(other_, "Standby").ok());  // only this node is InService
  r->start_haproxy();
  r->start_daemon();
  ASSERT_TRUE(wait_until([&] { return r->converged() && r->rig().ready_servers().size() == 2; })) << r->log();
  const std::string leaving = r->newest();
  ASSERT_TRUE(r->sim().set_desired("app", 1).ok());
  ASSERT_TRUE(wait_until([&] { return r->completed(leaving); }, 10s)) << r->log();
  EXPECT_EQ(r->action(leaving)->completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(r->sim().calls("CreateTags"), 0u);
  EXPECT_EQ(r->sim().calls("DescribeTags"), 0u) << "a cluster of one reads no records";
  EXPECT_TRUE(records(*r, leaving).empty());
}

}  // namespace
}  // namespace hasg::test
