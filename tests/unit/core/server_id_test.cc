// Stable server ids: derived from the instance id alone, in HAProxy's ring-safe range, collisions resolved the same
// way whatever order the instances come in.
#include "core/server_id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/desire.h"
#include "core/membership.h"
#include "core/planner.h"

namespace hasg::core {
namespace {

// Two instance ids whose stable ids collide, found by search (the test stays right whatever they are).
std::pair<std::string, std::string> colliding_pair() {
  std::map<int, std::string> seen;
  for (int i = 0;; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "i-%017x", i);
    auto [it, fresh] = seen.emplace(server_id_candidate(buf), buf);
    if (!fresh) return {it->second, buf};
  }
}

TEST(ServerId, Fnv1aKnownValues) {
  // The published FNV-1a 64-bit test vectors.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(ServerId, DerivedFromTheInstanceIdAloneWithinTheRingSafeRange) {
  const std::string id = "i-0123456789abcdef0";
  const int stable = server_id_candidate(id);
  EXPECT_EQ(stable, kServerIdMin + static_cast<int>(fnv1a64(id) % kServerIdSpan));
  EXPECT_EQ(server_id_candidate(id, 1), stable + 1 == kServerIdEnd ? kServerIdMin : stable + 1);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "i-%017llx", static_cast<unsigned long long>(rng() >> 4));
    int v = server_id_candidate(buf);
    EXPECT_TRUE(is_stable_server_id(v)) << buf << " -> " << v;
    EXPECT_GE(v, 65536);
    EXPECT_LT(v, 1 << 20);  // below 2^20: distinct ids are distinct points on HAProxy's ring
  }
  EXPECT_FALSE(is_stable_server_id(1));
  EXPECT_FALSE(is_stable_server_id(1 << 20));
}

TEST(ServerId, AssignmentIgnoresTheOrderOfTheNames) {
  auto [a, b] = colliding_pair();
  ASSERT_EQ(server_id_candidate(a), server_id_candidate(b));
  auto one = assign_server_ids({a, b, "i-0ffff00000000000a"}, {});
  auto two = assign_server_ids({"i-0ffff00000000000a", b, a}, {});
  EXPECT_EQ(one, two);
  // The smaller instance id keeps the stable id; the other takes its next free candidate.
  const std::string& lo = std::min(a, b);
  const std::string& hi = std::max(a, b);
  EXPECT_EQ(one[lo], server_id_candidate(lo));
  EXPECT_EQ(one[hi], server_id_candidate(hi, 1));
  EXPECT_NE(one[lo], one[hi]);
}

TEST(ServerId, AnInstanceWhoseIdIsTakenStillGetsOne) {
  const std::string x = "i-0aaaaaaaaaaaaaaaa";
  const int c0 = server_id_candidate(x);
  const int c1 = server_id_candidate(x, 1);
  auto ids = assign_server_ids({x}, {c0});
  EXPECT_EQ(ids.at(x), c1);
  ids = assign_server_ids({x}, {c0, c1});
  EXPECT_EQ(ids.at(x), server_id_candidate(x, 2));
  // Names given twice get one id.
  EXPECT_EQ(assign_server_ids({x, x}, {}).size(), 1u);
}

TEST(ServerId, LastCandidateWrapsToTheStartOfTheRange) {
  // Find an instance whose stable id is the range's last, so its next candidate wraps.
  for (int i = 0; i < 50'000'000; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "i-%x", i);
    if (server_id_candidate(buf) == kServerIdEnd - 1) {
      EXPECT_EQ(server_id_candidate(buf, 1), kServerIdMin);
      return;
    }
  }
  GTEST_SKIP() << "no instance id found with the last stable id";
}

// --- where the ids are used: desire (a file for a HAProxy that starts from it), the planner (add server), and the
// file of a running HAProxy (membership) ---

GroupMembers group_of(std::vector<std::string> ids) {
  GroupMembers g{"app", true, {}};
  int n = 1;
  std::sort(ids.begin(), ids.end());
  for (auto& id : ids) {
    Member m;
    m.instance_id = id;
    m.group = "app";
    m.lifecycle_state = "InService";
    m.instance_state = "running";
    m.private_ipv4 = "127.0.0." + std::to_string(n++);
    classify(m, true);
    g.members.push_back(m);
  }
  return g;
}

BackendSpec spec() {
  BackendSpec b;
  b.backend = "app";
  b.group = "app";
  b.port = 80;
  return b;
}

TEST(ServerId, DesireGivesEveryServerItsId) {
  auto [a, b] = colliding_pair();
  auto d = desire({spec()}, {group_of({a, b, "i-0c0c0c0c0c0c0c0c0"})});
  ASSERT_EQ(d.size(), 1u);
  auto want = assign_server_ids({a, b, "i-0c0c0c0c0c0c0c0c0"}, {});
  ASSERT_EQ(d[0].servers.size(), 3u);
  for (const auto& s : d[0].servers) EXPECT_EQ(s.id, want.at(s.name)) << s.name;
}

ActualServer actual(std::string name, int id, std::string address = "127.0.0.9") {
  ActualServer s;
  s.name = std::move(name);
  s.address = std::move(address);
  s.port = 80;
  s.up = true;
  s.id = id;
  return s;
}

// The order two nodes saw the group in: one added both instances at once, the other first `hi` (its stable id
// free), then `lo`. Without a collision both end with the same ids whatever the order.
TEST(ServerId, PlannerAddsWithIdsAvoidingThoseInUse) {
  auto [a, b] = colliding_pair();
  const std::string lo = std::min(a, b), hi = std::max(a, b);
  auto desired = desire({spec()}, {group_of({lo, hi})});
  PlanInput in;
  in.desired = desired;
  in.actual = {ActualBackend{"app", true, {actual(hi, server_id_candidate(hi), "127.0.0.2"), actual("static", 1)}}};
  in.unmanaged = {"app/static"};  // the template's own server
  in.now = TimePoint{};
  Plan p = plan(in);
  ASSERT_EQ(p.ops.size(), 1u);
  EXPECT_EQ(p.ops[0].kind, OpKind::Add);
  EXPECT_EQ(p.ops[0].server, lo);
  // Its stable id is held by `hi`: the next free candidate, never an id in use.
  EXPECT_EQ(p.ops[0].server_id, server_id_candidate(lo, 1));

  in.actual = {ActualBackend{"app", true, {actual("static", 1)}}};
  p = plan(in);
  ASSERT_EQ(p.ops.size(), 2u);
  for (const auto& op : p.ops) EXPECT_EQ(op.server_id, desired[0].servers[op.server == lo ? 0 : 1].id) << op.server;
}

TEST(ServerId, TheFileKeepsHaproxysStableIdsAndGivesOthersOne) {
  auto d = desire({spec()}, {group_of({"i-0aaa", "i-0bbb", "i-0ccc"})});
  // i-0aaa holds a stable id that is not its own (a collision resolved earlier); i-0bbb was added without an id by
  // an older version (id 2); i-0ccc is new this cycle.
  const int odd = server_id_candidate("i-0aaa", 3);
  ActualBackend have{"app", true, {actual("i-0aaa", odd, "127.0.0.1"), actual("i-0bbb", 2, "127.0.0.2"), actual("web1", 1)}};
  PlanInput in;
  in.desired = d;
  in.actual = {have};
  in.unmanaged = {"app/web1"};
  in.now = TimePoint{};
  Plan p = plan(in);
  auto file = serving_after(d[0], &have, p, in.unmanaged);
  ASSERT_EQ(file.size(), 3u);
  EXPECT_EQ(file[0].name, "i-0aaa");
  EXPECT_EQ(file[0].id, odd);  // kept: changing it would need a del and an add
  EXPECT_EQ(file[1].name, "i-0bbb");
  EXPECT_EQ(file[1].id, server_id_candidate("i-0bbb"));  // its stable id, from the next reload on
  EXPECT_EQ(file[2].name, "i-0ccc");
  ASSERT_EQ(p.ops.size(), 1u);
  EXPECT_EQ(file[2].id, p.ops[0].server_id);
  EXPECT_EQ(file[2].id, server_id_candidate("i-0ccc"));
}

}  // namespace
}  // namespace hasg::core
