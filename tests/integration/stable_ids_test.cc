// The same view from every load balancer (issue 10, item 3), with two real HAProxy 2.6 processes, haproxy-asg and
// the simulator: node A starts with the whole group, node B sees it grow (its first server from the file, the
// others added at runtime, in another order). With `balance uri` and `hash-type consistent`, both give every
// instance the same server id and send each URI to the same instance.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/server_id.h"
#include "lb_node.h"

namespace hasg::test {
namespace {

TEST(StableIds, TwoBalancersGiveEachInstanceTheSameIdAndEachUriTheSameInstance) {
  if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  sim::SimOptions opt;
  opt.instance_net = 151;
  opt.instance_port = free_port();
  sim::Simulator sim(opt);
  ASSERT_TRUE(sim.start().ok());
  ASSERT_TRUE(sim.create_group("app", 4).ok());
  std::vector<std::string> all;
  ASSERT_TRUE(wait_until([&] {
    all.clear();
    for (const auto& i : sim.instances("app"))
      if (i.lifecycle == "InService") all.push_back(i.id);
    return all.size() == 4;
  }));
  std::sort(all.begin(), all.end());

  // Node B first sees only the newest instance (the others in Standby): its file holds that one alone, so without
  // stable ids it would be server 1 there, and the others 2, 3, 4 as they come back.
  Node b(sim, opt.instance_port);
  for (size_t k = 0; k + 1 < all.size(); ++k) ASSERT_TRUE(sim.set_lifecycle(all[k], "Standby").ok());
  auto r = b.once();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(b.start_haproxy()) << b.log();
  ASSERT_EQ(b.ids().size(), 1u) << b.runtime("show servers state app");
  for (size_t k = 0; k + 1 < all.size(); ++k) ASSERT_TRUE(sim.set_lifecycle(all[k], "InService").ok());
  r = b.once();  // adds the three at runtime: "add server app/ID ADDR:PORT id N weight 10"
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Node A starts with the whole group, from its file.
  Node a(sim, opt.instance_port);
  r = a.once();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(a.start_haproxy()) << a.log();

  // The same ids on both: each instance's stable id, whichever way it got into HAProxy.
  ASSERT_TRUE(wait_until([&] { return a.ids().size() == 4 && b.ids().size() == 4; }))
      << a.runtime("show servers state app") << b.runtime("show servers state app");
  EXPECT_EQ(a.ids(), b.ids());
  auto ids = core::assign_server_ids(all, {});
  for (const auto& [name, id] : a.ids()) {
    EXPECT_EQ(id, ids.at(name)) << name;
    EXPECT_TRUE(core::is_stable_server_id(id)) << name << " " << id;
    EXPECT_NE(a.file().find("server " + name + " "), std::string::npos);
  }
  EXPECT_NE(b.file().find(" id " + std::to_string(ids.at(all[0])) + " weight 10"), std::string::npos) << b.file();

  // Every URI lands on the same instance from both balancers, and the keys spread over the group.
  std::set<std::string> used;
  for (int k = 0; k < 48; ++k) {
    const std::string path = "/key/" + std::to_string(k);
    const std::string from_a = a.answer(path);
    ASSERT_FALSE(from_a.empty()) << path;
    EXPECT_EQ(from_a, b.answer(path)) << path;
    used.insert(from_a);
  }
  EXPECT_GE(used.size(), 3u) << "48 keys over 4 instances of weight 10";
}

}  // namespace
}  // namespace hasg::test
