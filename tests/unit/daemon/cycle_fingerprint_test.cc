// The cycle's fingerprint: equal inputs give equal digests, and a change of any one field of any input gives
// another (the skip of an unchanged cycle must never hide a change).
#include "daemon/cycle_fingerprint.h"

#include <gtest/gtest.h>

#include <functional>

namespace hasg::daemon {
namespace {

using namespace std::chrono_literals;

struct Inputs {
  std::vector<core::GroupMembers> groups{
      {"app", true,
       {{"i-1", "app", "InService", "Healthy", "z1", "running", "127.0.0.2", "", true, ""},
        {"i-2", "app", "Terminating:Wait", "Healthy", "z2", "running", "127.0.0.3", "fd00::3", false, "leaving"}}}};
  std::string template_text = "backend app\n";
  std::string current = "backend app\n    server i-1 127.0.0.2:80\n";
  bool haproxy_running = true;
  std::vector<core::ActualBackend> actual{
      {"app", true, {{"i-1", "127.0.0.2", 80, core::AdminState::Ready, true, 0, true, true}}}};
  core::ClusterView cluster{true, "lb-1", {"lb-1", "lb-2"}, true, {{"i-2", {"lb-2"}}}};
  std::vector<std::chrono::milliseconds> heartbeat_timeouts{60s};
  core::SyncState state;
  std::optional<uint64_t> generation;  // none: the members are hashed

  Inputs() {
    const core::TimePoint t{std::chrono::seconds(1'800'000'000)};
    state.drains["app/i-2"] = core::DrainRecord{t};
    state.hooks["app/drain/i-2"] = core::HookWait{"app", "drain", "terminating", t, t, false, false};
    state.down_since["app/i-1"] = t;
    state.reported.insert("app/i-9");
  }
  CycleFingerprint digest() const {
    return fingerprint(
        {groups, generation, template_text, current, haproxy_running, actual, cluster, heartbeat_timeouts, state});
  }
};

TEST(CycleFingerprint, EqualInputsGiveEqualDigests) { EXPECT_EQ(Inputs().digest(), Inputs().digest()); }

TEST(CycleFingerprint, AnyChangedFieldGivesAnotherDigest) {
  const auto base = Inputs().digest();
  const core::TimePoint later{std::chrono::seconds(1'800'000'001)};
  const std::vector<std::pair<const char*, std::function<void(Inputs&)>>> changes = {
      {"a member's id", [](Inputs& i) { i.groups[0].members[0].instance_id = "i-3"; }},
      {"a member's group", [](Inputs& i) { i.groups[0].members[0].group = "web"; }},
      {"a lifecycle state", [](Inputs& i) { i.groups[0].members[1].lifecycle_state = "Terminating:Proceed"; }},
      {"a health status", [](Inputs& i) { i.groups[0].members[0].health_status = "Unhealthy"; }},
      {"a zone", [](Inputs& i) { i.groups[0].members[0].availability_zone = "z3"; }},
      {"an instance state", [](Inputs& i) { i.groups[0].members[0].instance_state = "stopping"; }},
      {"an IPv4 address", [](Inputs& i) { i.groups[0].members[0].private_ipv4 = "127.0.0.4"; }},
      {"an IPv6 address", [](Inputs& i) { i.groups[0].members[1].ipv6 = "fd00::4"; }},
      {"served", [](Inputs& i) { i.groups[0].members[0].served = false; }},
      {"why not served", [](Inputs& i) { i.groups[0].members[1].not_served_reason = "other"; }},
      {"a member more", [](Inputs& i) { i.groups[0].members.push_back(i.groups[0].members[0]); }},
      {"a group not found", [](Inputs& i) { i.groups[0].found = false; }},
      {"a group's name", [](Inputs& i) { i.groups[0].group = "web"; }},
      {"a provider's generation", [](Inputs& i) { i.generation = 7; }},
      {"the template", [](Inputs& i) { i.template_text += "# x\n"; }},
      {"the file on disk", [](Inputs& i) { i.current.clear(); }},
      {"HAProxy running", [](Inputs& i) { i.haproxy_running = false; }},
      {"a backend missing", [](Inputs& i) { i.actual[0].exists = false; }},
      {"a server's name", [](Inputs& i) { i.actual[0].servers[0].name = "i-7"; }},
      {"a server's address", [](Inputs& i) { i.actual[0].servers[0].address = "127.0.0.9"; }},
      {"a server's port", [](Inputs& i) { i.actual[0].servers[0].port = 81; }},
      {"a server's admin state", [](Inputs& i) { i.actual[0].servers[0].admin = core::AdminState::Drain; }},
      {"a server going down", [](Inputs& i) { i.actual[0].servers[0].up = false; }},
      {"a server's sessions", [](Inputs& i) { i.actual[0].servers[0].current_sessions = 1; }},
      {"a server's checks", [](Inputs& i) { i.actual[0].servers[0].check_enabled = false; }},
      {"a server's last check", [](Inputs& i) { i.actual[0].servers[0].check_passed = false; }},
      {"a server's id", [](Inputs& i) { i.actual[0].servers[0].id = 70000; }},
      {"a value refused", [](Inputs& i) {
         i.groups[0].refused.push_back({"i-x y", "InstanceId", "i-x y", "not an instance id"});
       }},
      {"a server more", [](Inputs& i) { i.actual[0].servers.push_back(i.actual[0].servers[0]); }},
      {"the cluster on or off", [](Inputs& i) { i.cluster.enabled = false; }},
      {"this node's id", [](Inputs& i) { i.cluster.self = "lb-3"; }},
      {"the cluster's nodes", [](Inputs& i) { i.cluster.nodes.insert("lb-3"); }},
      {"the cluster's records readable", [](Inputs& i) { i.cluster.complete = false; }},
      {"a drain record", [](Inputs& i) { i.cluster.drained["i-2"].insert("lb-1"); }},
      {"a heartbeat timeout", [](Inputs& i) { i.heartbeat_timeouts[0] = 30s; }},
      {"a drain's start", [&](Inputs& i) { i.state.drains["app/i-2"].since = later; }},
      {"a drain more", [](Inputs& i) { i.state.drains["app/i-3"] = i.state.drains["app/i-2"]; }},
      {"a reload pending", [](Inputs& i) { i.state.reload_pending = true; }},
      {"a reload requested", [](Inputs& i) { i.state.reload_requested = "certificates"; }},
      {"a hook's wait start", [&](Inputs& i) { i.state.hooks.begin()->second.since = later; }},
      {"a hook's heartbeat", [&](Inputs& i) { i.state.hooks.begin()->second.last_beat = later; }},
      {"a hook completed", [](Inputs& i) { i.state.hooks.begin()->second.completed = true; }},
      {"a hook recorded", [](Inputs& i) { i.state.hooks.begin()->second.recorded = true; }},
      {"a hook's transition", [](Inputs& i) { i.state.hooks.begin()->second.transition = "launching"; }},
      {"a hook's name", [](Inputs& i) { i.state.hooks.begin()->second.hook = "other"; }},
      {"a hook's group", [](Inputs& i) { i.state.hooks.begin()->second.group = "web"; }},
      {"a DOWN since-time", [&](Inputs& i) { i.state.down_since["app/i-1"] = later; }},
      {"a DOWN server more", [&](Inputs& i) { i.state.down_since["app/i-2"] = later; }},
      {"an instance reported", [](Inputs& i) { i.state.reported.insert("app/i-1"); }},
      // Length-prefixed fields: the same bytes split otherwise are another input.
      {"bytes moved between fields", [](Inputs& i) {
         i.template_text = "backend app\nbackend";
         i.current = " app\n    server i-1 127.0.0.2:80\n";
       }},
  };
  for (const auto& [what, change] : changes) {
    Inputs in;
    change(in);
    EXPECT_NE(in.digest(), base) << what;
  }
}

// With a provider's generation, the generation stands for the members: another generation is another digest, and
// the members are not read (the provider vouches that equal generations mean equal members).
TEST(CycleFingerprint, AGenerationStandsForTheMembers) {
  Inputs a, b;
  a.generation = b.generation = 41;
  b.groups[0].members[0].private_ipv4 = "127.0.0.9";
  EXPECT_EQ(a.digest(), b.digest());
  b.generation = 42;
  EXPECT_NE(a.digest(), b.digest());
}

}  // namespace
}  // namespace hasg::daemon
