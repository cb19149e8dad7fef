// Stick tables shared across the cluster (issue 10, item 4, cluster.peers), with two real HAProxy 2.6 processes:
// each node's haproxy-asg fills the template's peers section with the cluster group's nodes (their 127.152.x.y
// addresses from the simulator) and names its own with localpeer; an entry set on one node's table appears on the
// other's.
#include <gtest/gtest.h>

#include <string>

#include "lb_node.h"

namespace hasg::test {
namespace {

TEST(ClusterPeers, AStickTableEntryWrittenOnOneNodeAppearsOnTheOther) {
  if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  sim::SimOptions opt;
  opt.instance_net = 152;
  opt.instance_port = free_port();
  sim::Simulator sim(opt);
  ASSERT_TRUE(sim.start().ok());
  ASSERT_TRUE(sim.create_group("app", 1).ok());
  ASSERT_TRUE(sim.create_group("lb", 2).ok());
  std::vector<sim::SimInstance> lb;
  ASSERT_TRUE(wait_until([&] {
    lb.clear();
    for (const auto& i : sim.instances("lb"))
      if (i.lifecycle == "InService") lb.push_back(i);
    return lb.size() == 2;
  }));
  // The peers listen on the nodes' own addresses, on a port of their own (free on 127.0.0.1; nothing else binds
  // 127.152.x.y on it).
  const int peers_port = free_port();
  auto node = [&](const sim::SimInstance& self) {
    return std::make_unique<Node>(
        sim, opt.instance_port, "balance roundrobin",
        "cluster:\n  group: lb\n  node_id: " + self.id + "\n  peers: {section: lb, port: " +
            std::to_string(peers_port) + "}\n",
        "peers lb\n\n",
        "    stick-table type string len 32 size 1k expire 10m store gpc0 peers lb\n");
  };
  auto a = node(lb[0]);
  auto b = node(lb[1]);
  for (auto* n : {a.get(), b.get()}) {
    auto r = n->once();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  const std::string peer_a = "peer " + lb[0].id + " " + lb[0].address + ":" + std::to_string(peers_port);
  const std::string peer_b = "peer " + lb[1].id + " " + lb[1].address + ":" + std::to_string(peers_port);
  for (auto* n : {a.get(), b.get()}) {
    EXPECT_NE(n->file().find(peer_a), std::string::npos) << n->file();
    EXPECT_NE(n->file().find(peer_b), std::string::npos) << n->file();
  }
  EXPECT_NE(a->file().find("localpeer " + lb[0].id), std::string::npos) << a->file();
  EXPECT_NE(b->file().find("localpeer " + lb[1].id), std::string::npos) << b->file();
  ASSERT_TRUE(a->start_haproxy()) << a->log();
  ASSERT_TRUE(b->start_haproxy()) << b->log();

  EXPECT_EQ(a->runtime("set table app key hello data.gpc0 7"), "\n");
  ASSERT_TRUE(wait_until([&] { return b->runtime("show table app").find("key=hello") != std::string::npos; }))
      << b->runtime("show table app") << b->runtime("show peers") << b->log();
  EXPECT_NE(b->runtime("show table app").find("gpc0=7"), std::string::npos) << b->runtime("show table app");
  // And back the other way.
  EXPECT_EQ(b->runtime("set table app key back data.gpc0 3"), "\n");
  ASSERT_TRUE(wait_until([&] { return a->runtime("show table app").find("key=back") != std::string::npos; }))
      << a->runtime("show table app") << a->runtime("show peers");
}

}  // namespace
}  // namespace hasg::test
