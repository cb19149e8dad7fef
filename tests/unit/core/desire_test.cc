// The cluster's peers (cluster.peers): who is written into the template's peers section.
#include "core/desire.h"

#include <gtest/gtest.h>

namespace hasg::core {
namespace {

Member node(std::string id, std::string state, std::string address) {
  Member m;
  m.instance_id = std::move(id);
  m.group = "lb";
  m.lifecycle_state = std::move(state);
  m.instance_state = "running";
  m.private_ipv4 = std::move(address);
  return m;
}

TEST(ClusterPeers, InServiceNodesWithAnAddressAndThisNodeWhateverItsState) {
  GroupMembers lb{"lb", true,
                  {node("i-3", "InService", "127.0.1.4"), node("i-1", "Pending:Wait", "127.0.1.2"),
                   node("i-2", "InService", "127.0.1.3"), node("i-4", "Terminating:Wait", "127.0.1.5"),
                   node("i-5", "InService", "")}};
  GroupMembers app{"app", true, {node("i-9", "InService", "127.0.0.9")}};
  // This node (i-1) is still Pending:Wait: it is named all the same, since HAProxy drops a peers section without
  // its local peer. i-4 is leaving, i-5 has no address yet, i-9 is in another group.
  EXPECT_EQ(cluster_peers({app, lb}, "lb", "i-1"),
            (std::vector<DesiredServer>{{"i-1", "127.0.1.2", 0}, {"i-2", "127.0.1.3", 0}, {"i-3", "127.0.1.4", 0}}));
  EXPECT_EQ(cluster_peers({app, lb}, "lb", "i-7"),
            (std::vector<DesiredServer>{{"i-2", "127.0.1.3", 0}, {"i-3", "127.0.1.4", 0}}));
  EXPECT_TRUE(cluster_peers({app}, "lb", "i-1").empty());
  lb.found = false;
  EXPECT_TRUE(cluster_peers({lb}, "lb", "i-1").empty());
}

}  // namespace
}  // namespace hasg::core
