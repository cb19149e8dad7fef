// The planner, transition by transition, then over several cycles with a simulated HAProxy.
#include "core/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "core/server_id.h"

namespace hasg::core {

// Readable failures: gtest finds these by argument-dependent lookup.
void PrintTo(const Op& op, std::ostream* os) {
  *os << "{" << to_string(op.kind) << " " << op.backend << "/" << op.server;
  if (!op.address.empty() || op.port != 0) *os << " " << op.address << ":" << op.port;
  if (!op.server_options.empty()) *os << " opts=\"" << op.server_options << "\"";
  *os << " reason=\"" << op.reason << "\"}";
}

void PrintTo(const DrainRecord& r, std::ostream* os) {
  *os << "since=" << std::chrono::duration_cast<std::chrono::milliseconds>(r.since.time_since_epoch()).count()
      << "ms";
}

void PrintTo(const Plan& p, std::ostream* os) {
  *os << "Plan{\n  ops:\n";
  for (const Op& op : p.ops) {
    *os << "    ";
    PrintTo(op, os);
    *os << "\n";
  }
  *os << "  reload_needed: " << (p.reload_needed ? "true" : "false") << " \"" << p.reload_reason << "\"\n";
  *os << "  warnings:\n";
  for (const std::string& w : p.warnings) *os << "    " << w << "\n";
  *os << "  drains:\n";
  for (const auto& [k, r] : p.drains) {
    *os << "    " << k << " ";
    PrintTo(r, os);
    *os << "\n";
  }
  *os << "}";
}

namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const TimePoint T0 = TimePoint{std::chrono::seconds{1'700'000'000}};

// --- builders ---------------------------------------------------------------------------------------------------

DesiredServer ds(std::string name, std::string addr, int port = 80) { return {std::move(name), std::move(addr), port}; }

ActualServer as(std::string name, std::string addr, int port = 80, AdminState admin = AdminState::Ready,
                int sessions = 0) {
  ActualServer s;
  s.name = std::move(name);
  s.address = std::move(addr);
  s.port = port;
  s.admin = admin;
  s.up = true;
  s.current_sessions = sessions;
  return s;
}

DesiredBackend db(std::string name, std::vector<DesiredServer> servers, bool complete = true) {
  DesiredBackend b;
  b.backend = std::move(name);
  b.group = b.backend + "-asg";
  b.servers = std::move(servers);
  b.server_options = "check inter 2s";
  b.drain_timeout = 30s;
  b.discovery_complete = complete;
  return b;
}

ActualBackend ab(std::string name, std::vector<ActualServer> servers) {
  ActualBackend b;
  b.backend = std::move(name);
  b.servers = std::move(servers);
  return b;
}

Op add(std::string be, std::string srv, std::string addr, int port = 80) {
  Op op{};
  op.kind = OpKind::Add;
  op.backend = std::move(be);
  op.server = std::move(srv);
  op.address = std::move(addr);
  op.port = port;
  op.server_options = "check inter 2s";
  op.reason = "new member " + op.address;
  op.server_id = server_id_candidate(op.server);  // these tests' names do not collide (server_id_test.cc does)
  return op;
}
Op set_address(std::string be, std::string srv, std::string addr, int port, std::string reason) {
  Op op{};
  op.kind = OpKind::SetAddress;
  op.backend = std::move(be);
  op.server = std::move(srv);
  op.address = std::move(addr);
  op.port = port;
  op.reason = std::move(reason);
  return op;
}
Op simple(OpKind kind, std::string be, std::string srv, std::string reason) {
  Op op{};
  op.kind = kind;
  op.backend = std::move(be);
  op.server = std::move(srv);
  op.reason = std::move(reason);
  return op;
}
Op enable(std::string be, std::string srv, std::string reason) {
  return simple(OpKind::Enable, std::move(be), std::move(srv), std::move(reason));
}
Op drain(std::string be, std::string srv) {
  return simple(OpKind::Drain, std::move(be), std::move(srv), "no longer a member");
}
Op remove(std::string be, std::string srv, std::string reason) {
  return simple(OpKind::Remove, std::move(be), std::move(srv), std::move(reason));
}

PlanInput input(std::vector<DesiredBackend> desired, std::vector<ActualBackend> actual, DrainBook drains = {},
                TimePoint now = T0) {
  PlanInput in;
  in.desired = std::move(desired);
  in.actual = std::move(actual);
  in.drains = std::move(drains);
  in.now = now;
  return in;
}

std::vector<DesiredServer> desired_range(int from, int to) {  // i-000..: 10.0.0.N
  std::vector<DesiredServer> v;
  for (int i = from; i < to; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "i-%03d", i);
    v.push_back(ds(name, "10.0.0." + std::to_string(i)));
  }
  return v;
}

std::vector<ActualServer> actual_range(int from, int to) {
  std::vector<ActualServer> v;
  for (int i = from; i < to; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "i-%03d", i);
    v.push_back(as(name, "10.0.0." + std::to_string(i)));
  }
  return v;
}

// --- a pretend HAProxy ----------------------------------------------------------------------------------------------

// Applies a plan's ops to HAProxy's state the way the applier would: a new server arrives ready with no sessions;
// Remove deletes. Fails the test on ops that make no sense for the state (what the real runtime API would refuse).
void apply_plan(const Plan& p, std::vector<ActualBackend>& actual) {
  for (const Op& op : p.ops) {
    if (is_lifecycle_op(op.kind)) continue;  // Auto Scaling's, not HAProxy's
    auto be = std::find_if(actual.begin(), actual.end(), [&](const ActualBackend& b) { return b.backend == op.backend; });
    ASSERT_NE(be, actual.end()) << "op on a backend HAProxy lacks: " << op.backend;
    auto srv = std::find_if(be->servers.begin(), be->servers.end(),
                            [&](const ActualServer& s) { return s.name == op.server; });
    if (op.kind == OpKind::Add) {
      ASSERT_EQ(srv, be->servers.end()) << "add of an existing server " << op.server;
      be->servers.push_back(as(op.server, op.address, op.port));
      std::sort(be->servers.begin(), be->servers.end(),
                [](const ActualServer& a, const ActualServer& b) { return a.name < b.name; });
      continue;
    }
    ASSERT_NE(srv, be->servers.end()) << to_string(op.kind) << " of a missing server " << op.server;
    switch (op.kind) {
      case OpKind::Add: break;
      case OpKind::SetAddress:
        srv->address = op.address;
        srv->port = op.port;
        break;
      case OpKind::Enable: srv->admin = AdminState::Ready; break;
      case OpKind::Drain: srv->admin = AdminState::Drain; break;
      case OpKind::Remove: be->servers.erase(srv); break;
      case OpKind::CompleteLifecycle:
      case OpKind::Heartbeat:
      case OpKind::ReportUnhealthy:
      case OpKind::RecordDrained: break;
    }
  }
}

const ActualServer* find_server(const std::vector<ActualBackend>& actual, const std::string& be,
                                const std::string& srv) {
  for (const ActualBackend& b : actual)
    if (b.backend == be)
      for (const ActualServer& s : b.servers)
        if (s.name == srv) return &s;
  return nullptr;
}

void set_sessions(std::vector<ActualBackend>& actual, const std::string& be, const std::string& srv, int n) {
  for (ActualBackend& b : actual)
    if (b.backend == be)
      for (ActualServer& s : b.servers)
        if (s.name == srv) s.current_sessions = n;
}

std::size_t count_kind(const Plan& p, OpKind k) {
  return static_cast<std::size_t>(std::count_if(p.ops.begin(), p.ops.end(), [&](const Op& op) { return op.kind == k; }));
}

int rank(OpKind k) {
  switch (k) {
    case OpKind::Add: return 0;
    case OpKind::SetAddress: return 1;
    case OpKind::Enable: return 2;
    case OpKind::Drain: return 3;
    case OpKind::Remove: return 4;
    case OpKind::RecordDrained: return 5;
    case OpKind::CompleteLifecycle: return 6;
    case OpKind::Heartbeat: return 7;
    case OpKind::ReportUnhealthy: return 8;
  }
  return 9;
}

// Invariants every plan must hold: ordered, and never two ops of one kind for one server.
void expect_well_formed(const Plan& p) {
  std::set<std::tuple<int, std::string, std::string>> seen;
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const Op& op = p.ops[i];
    EXPECT_TRUE(seen.emplace(rank(op.kind), op.backend, op.server).second) << "duplicate op at " << i;
    EXPECT_FALSE(op.reason.empty());
    if (i > 0) {
      const Op& prev = p.ops[i - 1];
      EXPECT_LT(std::forward_as_tuple(rank(prev.kind), prev.backend, prev.server),
                std::forward_as_tuple(rank(op.kind), op.backend, op.server))
          << "ops out of order at " << i;
    }
  }
}

// --- no change ------------------------------------------------------------------------------------------------------

TEST(Planner, EmptyInputGivesEmptyPlan) {
  Plan p = plan(PlanInput{});
  EXPECT_EQ(p, Plan{});
  EXPECT_TRUE(p.empty());
}

TEST(Planner, EqualInGivesEmptyPlan) {
  auto in = input({db("web", desired_range(1, 5)), db("api", desired_range(10, 12))},
                  {ab("api", actual_range(10, 12)), ab("web", actual_range(1, 5)), ab("other", actual_range(1, 2))});
  EXPECT_EQ(plan(in), Plan{});
}

TEST(Planner, EqualInWithDownServersGivesEmptyPlan) {
  // Operational state (checks failing) is HAProxy's business, not the planner's.
  auto actual = actual_range(1, 3);
  actual[0].up = false;
  actual[1].current_sessions = 7;
  EXPECT_EQ(plan(input({db("web", desired_range(1, 3))}, {ab("web", actual)})), Plan{});
}

TEST(Planner, EmptyBackendBothSidesGivesEmptyPlan) {
  EXPECT_EQ(plan(input({db("web", {})}, {ab("web", {})})), Plan{});
}

// --- desired servers ------------------------------------------------------------------------------------------------

TEST(Planner, NewMemberIsAdded) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1"), ds("i-b", "10.0.0.2", 8080)})}, {ab("web", {as("i-a", "10.0.0.1")})});
  Plan want;
  want.ops = {add("web", "i-b", "10.0.0.2", 8080)};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, AddCarriesTheBackendsServerOptions) {
  auto b = db("web", {ds("i-a", "10.0.0.1")});
  b.server_options = "check inter 5s weight 10 maxconn 100";
  Plan p = plan(input({b}, {ab("web", {})}));
  ASSERT_EQ(p.ops.size(), 1u);
  EXPECT_EQ(p.ops[0].server_options, "check inter 5s weight 10 maxconn 100");
  EXPECT_EQ(p.ops[0].reason, "new member 10.0.0.1");
}

TEST(Planner, AddToEmptyBackendAddsAllByName) {
  auto in = input({db("web", {ds("i-c", "10.0.0.3"), ds("i-a", "10.0.0.1"), ds("i-b", "10.0.0.2")})}, {ab("web", {})});
  Plan want;
  want.ops = {add("web", "i-a", "10.0.0.1"), add("web", "i-b", "10.0.0.2"), add("web", "i-c", "10.0.0.3")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, AddressChangeSetsAddress) {
  auto in = input({db("web", {ds("i-a", "10.0.0.9")})}, {ab("web", {as("i-a", "10.0.0.1")})});
  Plan want;
  want.ops = {set_address("web", "i-a", "10.0.0.9", 80, "address 10.0.0.1:80 -> 10.0.0.9:80")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, PortChangeSetsAddress) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1", 8080)})}, {ab("web", {as("i-a", "10.0.0.1", 80)})});
  Plan want;
  want.ops = {set_address("web", "i-a", "10.0.0.1", 8080, "address 10.0.0.1:80 -> 10.0.0.1:8080")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, Ipv6AddressChangeIsBracketedInReason) {
  auto in = input({db("web", {ds("i-a", "2001:db8::2")})}, {ab("web", {as("i-a", "2001:db8::1")})});
  Plan p = plan(in);
  ASSERT_EQ(p.ops.size(), 1u);
  EXPECT_EQ(p.ops[0].reason, "address [2001:db8::1]:80 -> [2001:db8::2]:80");
  EXPECT_EQ(p.ops[0].address, "2001:db8::2");
}

TEST(Planner, Ipv6SpelledDifferentlyIsTheSameAddress) {
  auto in = input({db("web", {ds("i-a", "2001:db8::1")})}, {ab("web", {as("i-a", "2001:0db8:0:0::0001")})});
  EXPECT_EQ(plan(in), Plan{});
}

TEST(Planner, BackFromDrainIsEnabledAndLeavesTheBook) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})}, {ab("web", {as("i-a", "10.0.0.1", 80, AdminState::Drain, 4)})},
                  {{"web/i-a", {T0 - 10s}}});
  Plan want;
  want.ops = {enable("web", "i-a", "back in service")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, BackFromMaintenanceIsEnabled) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})}, {ab("web", {as("i-a", "10.0.0.1", 80, AdminState::Maint)})});
  Plan want;
  want.ops = {enable("web", "i-a", "was in maintenance")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, AddressChangeAndEnableBothSetAddressFirst) {
  auto in = input({db("web", {ds("i-a", "10.0.0.2")})}, {ab("web", {as("i-a", "10.0.0.1", 80, AdminState::Maint)})});
  Plan want;
  want.ops = {set_address("web", "i-a", "10.0.0.2", 80, "address 10.0.0.1:80 -> 10.0.0.2:80"),
              enable("web", "i-a", "was in maintenance")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, DesiredReadyServerWithStaleBookEntryDropsIt) {
  // Re-enabled by hand (or the book is stale): nothing to do, and it is no longer draining.
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})}, {ab("web", {as("i-a", "10.0.0.1")})}, {{"web/i-a", {T0 - 5s}}});
  EXPECT_EQ(plan(in), Plan{});
}

// --- servers that are no longer members --------------------------------------------------------------------------------

TEST(Planner, GoneMemberIsDrainedAndBooked) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})}, {ab("web", {as("i-a", "10.0.0.1"), as("i-b", "10.0.0.2")})});
  Plan want;
  want.ops = {drain("web", "i-b")};
  want.drains = {{"web/i-b", {T0}}};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, DrainingWithSessionsBeforeTimeoutDoesNothing) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})},
                  {ab("web", {as("i-a", "10.0.0.1"), as("i-b", "10.0.0.2", 80, AdminState::Drain, 3)})},
                  {{"web/i-b", {T0 - 29s}}});
  Plan want;
  want.drains = {{"web/i-b", {T0 - 29s}}};
  Plan p = plan(in);
  EXPECT_EQ(p, want);
  EXPECT_TRUE(p.empty());
}

TEST(Planner, DrainedToZeroSessionsIsRemoved) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})},
                  {ab("web", {as("i-a", "10.0.0.1"), as("i-b", "10.0.0.2", 80, AdminState::Drain, 0)})},
                  {{"web/i-b", {T0 - 2s}}});
  Plan want;
  want.ops = {remove("web", "i-b", "drained")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, DrainTimeoutRemovesWithSessionsLeft) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})},
                  {ab("web", {as("i-a", "10.0.0.1"), as("i-b", "10.0.0.2", 80, AdminState::Drain, 3)})},
                  {{"web/i-b", {T0 - 31s}}});
  Plan want;
  want.ops = {remove("web", "i-b", "drain timeout after 31s with 3 sessions")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, DrainTimeoutIsInclusive) {
  auto in = input({db("web", {})}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Drain, 1)})},
                  {{"web/i-b", {T0 - 30s}}});
  Plan want;
  want.ops = {remove("web", "i-b", "drain timeout after 30s with 1 sessions")};
  EXPECT_EQ(plan(in), want);

  in.drains["web/i-b"].since = T0 - 30s + 1ms;
  Plan keep;
  keep.drains = {{"web/i-b", {T0 - 30s + 1ms}}};
  EXPECT_EQ(plan(in), keep);
}

TEST(Planner, DrainTimeoutReasonShowsFractionalSeconds) {
  auto b = db("web", {});
  b.drain_timeout = 1500ms;
  auto in = input({b}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Drain, 2)})}, {{"web/i-b", {T0 - 1500ms}}});
  Plan p = plan(in);
  ASSERT_EQ(p.ops.size(), 1u);
  EXPECT_EQ(p.ops[0].reason, "drain timeout after 1.5s with 2 sessions");
}

TEST(Planner, ZeroDrainTimeoutRemovesAtOnceOnceDraining) {
  auto b = db("web", {});
  b.drain_timeout = 0ms;
  auto in = input({b}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Drain, 2)})}, {{"web/i-b", {T0}}});
  Plan want;
  want.ops = {remove("web", "i-b", "drain timeout after 0s with 2 sessions")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, DrainTimeoutIsPerBackend) {
  auto fast = db("fast", {});
  fast.drain_timeout = 5s;
  auto slow = db("slow", {});
  slow.drain_timeout = 60s;
  auto in = input({fast, slow},
                  {ab("fast", {as("i-a", "10.0.0.1", 80, AdminState::Drain, 1)}),
                   ab("slow", {as("i-b", "10.0.0.2", 80, AdminState::Drain, 1)})},
                  {{"fast/i-a", {T0 - 10s}}, {"slow/i-b", {T0 - 10s}}});
  Plan want;
  want.ops = {remove("fast", "i-a", "drain timeout after 10s with 1 sessions")};
  want.drains = {{"slow/i-b", {T0 - 10s}}};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, RestartMidDrainAdoptsTheServerAtNow) {
  auto in = input({db("web", {})}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Drain, 5)})});
  Plan want;
  want.drains = {{"web/i-b", {T0}}};
  EXPECT_EQ(plan(in), want);

  // Its drain counts from the adoption: still there 29 s later, removed at 30 s.
  in.drains = want.drains;
  in.now = T0 + 29s;
  EXPECT_EQ(plan(in), want);
  in.now = T0 + 30s;
  Plan gone;
  gone.ops = {remove("web", "i-b", "drain timeout after 30s with 5 sessions")};
  EXPECT_EQ(plan(in), gone);
}

TEST(Planner, RestartMidDrainWithNoSessionsRemovesAtOnce) {
  auto in = input({db("web", {})}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Drain, 0)})});
  Plan want;
  want.ops = {remove("web", "i-b", "drained")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, MaintenanceWithoutBookIsRemoved) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})},
                  {ab("web", {as("i-a", "10.0.0.1"), as("i-b", "10.0.0.2", 80, AdminState::Maint, 0)})});
  Plan want;
  want.ops = {remove("web", "i-b", "in maintenance, not a member")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, MaintenanceWithoutBookIsRemovedWhateverItsSessions) {
  auto in = input({db("web", {})}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Maint, 9)})});
  Plan want;
  want.ops = {remove("web", "i-b", "in maintenance, not a member")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, MaintenanceInBookFollowsTheDrainRules) {
  // E.g. a Remove that set maintenance and then failed to delete: sessions and timeout still decide.
  auto in = input({db("web", {})}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Maint, 2)})},
                  {{"web/i-b", {T0 - 10s}}});
  Plan keep;
  keep.drains = {{"web/i-b", {T0 - 10s}}};
  EXPECT_EQ(plan(in), keep);

  in.actual[0].servers[0].current_sessions = 0;
  Plan gone;
  gone.ops = {remove("web", "i-b", "drained")};
  EXPECT_EQ(plan(in), gone);
}

TEST(Planner, BookedButShownReadyIsDrainedAgainKeepingItsStart) {
  // The drain command was lost: drain again, the timeout still counts from the first drain, and the cap is not
  // spent on it.
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})},
                  {ab("web", {as("i-a", "10.0.0.1"), as("i-b", "10.0.0.2", 80, AdminState::Ready, 4),
                              as("i-c", "10.0.0.3", 80, AdminState::Ready, 4)})},
                  {{"web/i-b", {T0 - 10s}}});
  in.options.max_remove_fraction = 0.1;  // one a cycle
  Plan p = plan(in);
  ASSERT_EQ(p.ops.size(), 2u);
  EXPECT_EQ(p.ops[0].kind, OpKind::Drain);
  EXPECT_EQ(p.ops[0].server, "i-b");
  EXPECT_THAT(p.ops[0].reason, HasSubstr("no longer a member"));
  EXPECT_EQ(p.ops[1], drain("web", "i-c"));
  EXPECT_EQ(p.drains, (DrainBook{{"web/i-b", {T0 - 10s}}, {"web/i-c", {T0}}}));
  EXPECT_THAT(p.warnings, IsEmpty());
}

TEST(Planner, BookedButShownReadyWithNoSessionsIsRemoved) {
  auto in = input({db("web", {})}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Ready, 0)})},
                  {{"web/i-b", {T0 - 10s}}});
  Plan want;
  want.ops = {remove("web", "i-b", "drained")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, BookEntryFromTheFutureIsClampedToNow) {
  // The clock went back an hour: the drain restarts counting now instead of lasting an extra hour.
  auto in = input({db("web", {})}, {ab("web", {as("i-b", "10.0.0.2", 80, AdminState::Drain, 2)})},
                  {{"web/i-b", {T0 + 1h}}});
  Plan want;
  want.drains = {{"web/i-b", {T0}}};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, DrainBookForgetsServersAndBackendsNoLongerThere) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")})}, {ab("web", {as("i-a", "10.0.0.1")})},
                  {{"web/i-gone", {T0 - 5s}}, {"oldbackend/i-x", {T0 - 5s}}});
  EXPECT_EQ(plan(in), Plan{});
}

// --- partial discovery ----------------------------------------------------------------------------------------------

TEST(Planner, IncompleteDiscoveryNeverDrainsOrRemovesButStillAddsAndEnables) {
  auto b = db("web", {ds("i-a", "10.0.0.1"), ds("i-new", "10.0.0.9"), ds("i-m", "10.0.0.5", 80)}, false);
  auto in = input({b}, {ab("web", {as("i-a", "10.0.0.1"),
                                   as("i-gone", "10.0.0.2"),                             // ready: no drain
                                   as("i-maint", "10.0.0.3", 80, AdminState::Maint),      // maint: no remove
                                   as("i-old", "10.0.0.4", 80, AdminState::Drain, 0),     // drained: no remove
                                   as("i-slow", "10.0.0.6", 80, AdminState::Drain, 3),    // timed out: no remove
                                   as("i-unbooked", "10.0.0.7", 80, AdminState::Drain, 3),  // not adopted
                                   as("i-m", "10.0.0.5", 80, AdminState::Maint)})},
                  {{"web/i-old", {T0 - 5s}}, {"web/i-slow", {T0 - 1h}}});
  Plan p = plan(in);
  EXPECT_THAT(p.ops, ElementsAre(add("web", "i-new", "10.0.0.9"), enable("web", "i-m", "was in maintenance")));
  EXPECT_EQ(p.drains, (DrainBook{{"web/i-old", {T0 - 5s}}, {"web/i-slow", {T0 - 1h}}}));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_THAT(p.warnings[0], AllOf(HasSubstr("web"), HasSubstr("web-asg"), HasSubstr("incomplete"), HasSubstr("5 servers")));
  EXPECT_FALSE(p.reload_needed);
}

TEST(Planner, IncompleteDiscoveryWithNothingHeldIsSilent) {
  auto in = input({db("web", desired_range(1, 4), false)}, {ab("web", actual_range(1, 4))});
  EXPECT_EQ(plan(in), Plan{});
}

TEST(Planner, IncompleteDiscoveryOfOneBackendDoesNotHoldAnother) {
  auto in = input({db("a", {}, false), db("b", {})},
                  {ab("a", {as("i-1", "10.0.0.1")}), ab("b", {as("i-2", "10.0.0.2")})});
  Plan p = plan(in);
  EXPECT_THAT(p.ops, ElementsAre(drain("b", "i-2")));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_THAT(p.warnings[0], AllOf(HasSubstr("backend a"), HasSubstr("1 server ")));
  EXPECT_EQ(p.drains, (DrainBook{{"b/i-2", {T0}}}));
}

TEST(Planner, IncompleteDiscoveryReturningMemberIsEnabledAndLeavesTheBook) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")}, false)},
                  {ab("web", {as("i-a", "10.0.0.1", 80, AdminState::Drain, 2)})}, {{"web/i-a", {T0 - 1s}}});
  Plan want;
  want.ops = {enable("web", "i-a", "back in service")};
  EXPECT_EQ(plan(in), want);
}

// --- the removal cap ------------------------------------------------------------------------------------------------

TEST(Planner, RemovalCapDrainsHalfTheServingServersThenContinues) {
  // 10 serving, 8 of them gone: 5 drained now (by name), 3 held with a warning.
  std::vector<DesiredBackend> desired{db("web", desired_range(0, 2))};
  std::vector<ActualBackend> actual{ab("web", actual_range(0, 10))};
  Plan p = plan(input(desired, actual));
  Plan want;
  want.ops = {drain("web", "i-002"), drain("web", "i-003"), drain("web", "i-004"), drain("web", "i-005"),
              drain("web", "i-006")};
  want.drains = {{"web/i-002", {T0}}, {"web/i-003", {T0}}, {"web/i-004", {T0}}, {"web/i-005", {T0}}, {"web/i-006", {T0}}};
  want.warnings = {
      "backend web: removal cap held back 3 of 8 servers no longer members (at most 5 of 10 serving drained per "
      "cycle); they will be drained in later cycles"};
  EXPECT_EQ(p, want);

  // Next cycle: 5 serving left (2 members + 3 gone): floor(2.5) = 2 more; the first five still drain.
  apply_plan(p, actual);
  for (int i = 2; i <= 6; ++i) set_sessions(actual, "web", "i-00" + std::to_string(i), 1);
  p = plan(input(desired, actual, p.drains, T0 + 5s));
  expect_well_formed(p);
  EXPECT_THAT(p.ops, ElementsAre(drain("web", "i-007"), drain("web", "i-008")));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_THAT(p.warnings[0], HasSubstr("held back 1 of 3"));
  EXPECT_EQ(p.drains.size(), 7u);
  EXPECT_EQ(p.drains.at("web/i-002").since, T0);
  EXPECT_EQ(p.drains.at("web/i-007").since, T0 + 5s);

  // Then: 3 serving, floor(1.5) = 1: the last one; i-007 and i-008 had no sessions left, so they go.
  apply_plan(p, actual);
  p = plan(input(desired, actual, p.drains, T0 + 10s));
  EXPECT_THAT(p.ops, ElementsAre(drain("web", "i-009"), remove("web", "i-007", "drained"),
                                 remove("web", "i-008", "drained")));
  EXPECT_THAT(p.warnings, IsEmpty());
  EXPECT_EQ(p.drains.size(), 6u);
  EXPECT_EQ(p.drains.count("web/i-007"), 0u);
}

TEST(Planner, RemovalCapOfAOneServerBackendStillRemovesIt) {
  auto in = input({db("web", {})}, {ab("web", {as("i-a", "10.0.0.1")})});
  Plan want;
  want.ops = {drain("web", "i-a")};
  want.drains = {{"web/i-a", {T0}}};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, RemovalCapOfTwoServersDrainsOneAtATime) {
  auto in = input({db("web", {})}, {ab("web", actual_range(1, 3))});
  Plan p = plan(in);
  EXPECT_THAT(p.ops, ElementsAre(drain("web", "i-001")));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_THAT(p.warnings[0], HasSubstr("held back 1 of 2"));
}

TEST(Planner, RemovalCapCountsOnlyServingManagedServers) {
  // 5 Ready managed (3 gone), plus a draining and 3 unmanaged Ready servers: cap = floor(0.5 * 5) = 2, 1 held.
  auto in = input({db("web", desired_range(1, 3))},
                  {ab("web", {as("i-001", "10.0.0.1"), as("i-002", "10.0.0.2"), as("i-003", "10.0.0.3"),
                              as("i-004", "10.0.0.4"), as("i-005", "10.0.0.5", 80, AdminState::Drain, 3),
                              as("i-006", "10.0.0.6"), as("static1", "10.1.0.1"), as("static2", "10.1.0.2"),
                              as("static3", "10.1.0.3")})},
                  {{"web/i-005", {T0 - 1s}}});
  in.unmanaged = {"web/static1", "web/static2", "web/static3"};
  Plan p = plan(in);
  EXPECT_THAT(p.ops, ElementsAre(drain("web", "i-003"), drain("web", "i-004")));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_THAT(p.warnings[0], HasSubstr("held back 1 of 3"));
  EXPECT_THAT(p.warnings[0], HasSubstr("at most 2 of 5"));
  EXPECT_EQ(p.drains, (DrainBook{{"web/i-003", {T0}}, {"web/i-004", {T0}}, {"web/i-005", {T0 - 1s}}}));
}

TEST(Planner, RemovalCapFractionIsConfigurable) {
  auto in = input({db("web", desired_range(0, 1))}, {ab("web", actual_range(0, 100))});
  in.options.max_remove_fraction = 0.29;  // 0.29 * 100 is 28.999999999999996 in binary: still 29
  EXPECT_EQ(count_kind(plan(in), OpKind::Drain), 29u);
  in.options.max_remove_fraction = 0.1;
  EXPECT_EQ(count_kind(plan(in), OpKind::Drain), 10u);
  in.options.max_remove_fraction = 1.0;
  EXPECT_EQ(count_kind(plan(in), OpKind::Drain), 99u);
  in.options.max_remove_fraction = 5.0;
  EXPECT_EQ(count_kind(plan(in), OpKind::Drain), 99u);
  in.options.max_remove_fraction = 0.0;  // at least one a cycle, always
  EXPECT_EQ(count_kind(plan(in), OpKind::Drain), 1u);
  in.options.max_remove_fraction = -1.0;
  EXPECT_EQ(count_kind(plan(in), OpKind::Drain), 1u);
}

TEST(Planner, UnlimitedRemovalDrainsEveryGoneServerAtOnce) {
  auto in = input({db("web", desired_range(0, 2))}, {ab("web", actual_range(0, 10))});
  in.options.unlimited_removal = true;
  in.options.max_remove_fraction = 0.1;
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::Drain), 8u);
  EXPECT_EQ(p.ops.size(), 8u);
  EXPECT_THAT(p.warnings, IsEmpty());
  EXPECT_EQ(p.drains.size(), 8u);
}

TEST(Planner, RemovalCapDoesNotLimitRemovalOfDrainedOrMaintenanceServers) {
  auto in = input({db("web", desired_range(0, 1))},
                  {ab("web", {as("i-000", "10.0.0.0"), as("i-001", "10.0.0.1", 80, AdminState::Drain, 0),
                              as("i-002", "10.0.0.2", 80, AdminState::Drain, 0),
                              as("i-003", "10.0.0.3", 80, AdminState::Maint, 0)})},
                  {{"web/i-001", {T0 - 1s}}, {"web/i-002", {T0 - 1s}}});
  Plan want;
  want.ops = {remove("web", "i-001", "drained"), remove("web", "i-002", "drained"),
              remove("web", "i-003", "in maintenance, not a member")};
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, RemovalCapIsPerBackend) {
  auto in = input({db("a", {}), db("b", {})}, {ab("a", actual_range(0, 4)), ab("b", actual_range(0, 4))});
  Plan p = plan(in);
  EXPECT_THAT(p.ops, ElementsAre(drain("a", "i-000"), drain("a", "i-001"), drain("b", "i-000"), drain("b", "i-001")));
  EXPECT_EQ(p.warnings.size(), 2u);
}

// --- unmanaged servers, missing backends --------------------------------------------------------------------------------

TEST(Planner, UnmanagedServersAreNeverTouched) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1"), ds("static-desired", "10.9.9.9")})},
                  {ab("web", {as("i-a", "10.0.0.1"), as("static-ready", "10.1.0.1"),
                              as("static-maint", "10.1.0.2", 80, AdminState::Maint),
                              as("static-drain", "10.1.0.3", 80, AdminState::Drain, 0),
                              as("static-desired", "10.1.0.4", 80, AdminState::Maint)})},
                  {{"web/static-drain", {T0 - 1h}}});
  in.unmanaged = {"web/static-ready", "web/static-maint", "web/static-drain", "web/static-desired",
                  "web/static-absent"};
  in.desired[0].servers.push_back(ds("static-absent", "10.1.0.5"));
  EXPECT_EQ(plan(in), Plan{});
}

TEST(Planner, UnmanagedIsPerBackend) {
  auto in = input({db("a", {}), db("b", {})}, {ab("a", {as("s1", "10.0.0.1")}), ab("b", {as("s1", "10.0.0.1")})});
  in.unmanaged = {"a/s1"};
  Plan p = plan(in);
  EXPECT_THAT(p.ops, ElementsAre(drain("b", "s1")));
}

TEST(Planner, MissingBackendNeedsReloadAndGetsNoOps) {
  auto in = input({db("new", {ds("i-a", "10.0.0.1")}), db("web", {ds("i-b", "10.0.0.2")})}, {ab("web", {})});
  Plan want;
  want.ops = {add("web", "i-b", "10.0.0.2")};
  want.reload_needed = true;
  want.reload_reason = "HAProxy lacks backend new";
  EXPECT_EQ(plan(in), want);
  EXPECT_FALSE(plan(in).empty());
}

TEST(Planner, BackendThatDoesNotExistNeedsReload) {
  auto gone = ab("web", {as("i-a", "10.0.0.1")});
  gone.exists = false;
  auto in = input({db("web", {}), db("api", {})}, {gone}, {{"web/i-a", {T0 - 1s}}});
  Plan want;
  want.reload_needed = true;
  want.reload_reason = "HAProxy lacks backends web, api";
  EXPECT_EQ(plan(in), want);
}

TEST(Planner, HaproxyNotRunningPlansNothingAndForgetsDrains) {
  auto in = input({db("web", {ds("i-a", "127.0.0.2")})}, {}, {{"web/i-b", {T0 - 1s}}});
  in.haproxy_running = false;
  in.structure_changed = true;
  in.reload_pending = true;
  EXPECT_EQ(plan(in), Plan{}) << "only the file is written while HAProxy is down; nothing to reload";
}

TEST(Planner, StructureChangeNeedsReload) {
  auto in = input({db("web", {ds("i-a", "127.0.0.2")})}, {ab("web", {as("i-a", "127.0.0.2")})});
  in.structure_changed = true;
  Plan p = plan(in);
  EXPECT_TRUE(p.reload_needed);
  EXPECT_EQ(p.reload_reason, "the configuration's structure changed");
  in.config_missing = true;
  EXPECT_EQ(plan(in).reload_reason, "no configuration file yet");
}

TEST(Planner, PendingReloadIsRetriedAndAMissingBackendNamesItself) {
  auto in = input({db("web", {})}, {ab("web", {})});
  EXPECT_FALSE(plan(in).reload_needed);
  in.reload_pending = true;
  EXPECT_EQ(plan(in).reload_reason, "a previous reload did not complete");
  in.structure_changed = true;
  EXPECT_EQ(plan(in).reload_reason, "the configuration's structure changed");
  in.actual.clear();
  EXPECT_EQ(plan(in).reload_reason, "HAProxy lacks backend web");
}

TEST(Planner, AReloadAnEdgeAskedForIsPlannedWithItsReason) {
  auto in = input({db("web", {})}, {ab("web", {})});
  in.reload_requested = "certificates: /c/list no longer lists /c/b.pem";
  Plan p = plan(in);
  EXPECT_TRUE(p.reload_needed);
  EXPECT_EQ(p.reload_reason, "certificates: /c/list no longer lists /c/b.pem");
  in.reload_pending = true;
  EXPECT_EQ(plan(in).reload_reason, "certificates: /c/list no longer lists /c/b.pem");
  in.haproxy_running = false;
  EXPECT_FALSE(plan(in).reload_needed) << "nothing to reload while HAProxy is down";
}

TEST(Planner, IncompleteDiscoveryOfABackendHaproxyDoesNotServeRefusesTheCycle) {
  auto in = input({db("web", {ds("i-a", "127.0.0.2")}, /*complete=*/false), db("api", {})},
                  {ab("web", {as("i-a", "127.0.0.2")}), ab("api", {})});
  EXPECT_EQ(plan(in).refusal, "") << "HAProxy serves web: it keeps what it has";
  in.haproxy_running = false;
  EXPECT_THAT(plan(in).refusal, HasSubstr("group web-asg of backend web was not found or not fully described"));
  in.haproxy_running = true;
  in.actual = {ab("api", {})};
  EXPECT_THAT(plan(in).refusal, HasSubstr("backend web"));
  in.desired[0].discovery_complete = true;
  EXPECT_EQ(plan(in).refusal, "");
}

// --- lifecycle hooks and departures -------------------------------------------------------------------------------

DesiredBackend hooked(std::vector<DesiredServer> servers, std::map<std::string, std::string> lifecycle) {
  DesiredBackend b = db("web", std::move(servers));
  b.lifecycle = std::move(lifecycle);
  b.hook_terminating = "drain-hook";
  b.hook_heartbeat_timeout = 60s;
  return b;
}

std::vector<Op> lifecycle_ops(const Plan& p) {
  std::vector<Op> v;
  for (const Op& op : p.ops)
    if (is_lifecycle_op(op.kind)) v.push_back(op);
  return v;
}

TEST(Planner, TerminatingWaitIsDrainedAtOnceAndCompletedWhenRemoved) {
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-b", "Terminating:Wait"}});
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3", 80, AdminState::Ready, 4)})});
  Plan p = plan(in);
  // Drained at once, and a heartbeat at first sight: the wait may have begun up to an interval ago.
  ASSERT_EQ(p.ops.size(), 2u);
  EXPECT_EQ(p.ops[0], simple(OpKind::Drain, "web", "i-b", "leaving the group (Terminating:Wait)"));
  EXPECT_EQ(p.ops[1].kind, OpKind::Heartbeat);
  EXPECT_EQ(p.drains.count("web/i-b"), 1u);
  ASSERT_EQ(p.hooks.count("web-asg/drain-hook/i-b"), 1u);
  EXPECT_EQ(p.hooks.at("web-asg/drain-hook/i-b").since, T0);
  ASSERT_TRUE(p.next_due.has_value()) << "the next heartbeat is due at a third of the heartbeat timeout";
  EXPECT_EQ(*p.next_due, T0 + 20s);

  // Still 4 sessions two seconds later: nothing to do. At 0: removed and the hook completed in the same plan.
  in.drains = p.drains;
  in.hooks = p.hooks;
  in.now = T0 + 2s;
  in.actual = {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3", 80, AdminState::Drain, 4)})};
  EXPECT_THAT(plan(in).ops, IsEmpty());
  in.actual = {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3", 80, AdminState::Drain, 0)})};
  p = plan(in);
  ASSERT_EQ(p.ops.size(), 2u);
  EXPECT_EQ(p.ops[0], remove("web", "i-b", "drained"));
  EXPECT_EQ(p.ops[1].kind, OpKind::CompleteLifecycle);
  EXPECT_EQ(p.ops[1].group, "web-asg");
  EXPECT_EQ(p.ops[1].hook, "drain-hook");
  EXPECT_EQ(p.ops[1].server, "i-b");
  EXPECT_EQ(p.ops[1].result, "CONTINUE");
  EXPECT_EQ(p.ops[1].reason, "drained and removed");

  // Once the applier marked it completed, it is not completed again while AWS still shows it waiting.
  in.hooks = p.hooks;
  in.hooks["web-asg/drain-hook/i-b"].completed = true;
  in.actual = {ab("web", {as("i-a", "127.0.0.2")})};
  EXPECT_THAT(plan(in).ops, IsEmpty());
}

TEST(Planner, AnInstanceWaitingOnTheHookThatHaproxyDoesNotServeIsCompletedAtOnceOnEveryPath) {
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-z", "Terminating:Wait"}});
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2")})});
  auto ops = lifecycle_ops(plan(in));
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].reason, "not served by HAProxy");

  in.structure_changed = true;  // a reload cycle
  EXPECT_EQ(lifecycle_ops(plan(in)).size(), 1u);
  in.actual = {};
  in.haproxy_running = true;  // HAProxy lacks the backend (a reload will add it)
  EXPECT_EQ(lifecycle_ops(plan(in)).size(), 1u);
}

TEST(Planner, WithoutHaproxysViewAHookIsCompletedOnlyAfterTheDrainTimeout) {
  // "Not running" is only a missing or refusing socket: a wrong runtime_socket path looks the same while HAProxy
  // serves the instance. So the hook waits drain_timeout (30 s) from first sight, with heartbeats.
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-z", "Terminating:Wait"}});
  auto in = input({want}, {});
  in.haproxy_running = false;
  Plan p = plan(in);
  auto ops = lifecycle_ops(p);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::Heartbeat);
  EXPECT_EQ(p.next_due, T0 + 20s);
  in.hooks = p.hooks;
  in.hooks.begin()->second.last_beat = T0;
  in.now = T0 + 30s;
  ops = lifecycle_ops(plan(in));
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::CompleteLifecycle);
  EXPECT_EQ(ops[0].reason, "drain timeout passed out of HAProxy's sight");
}

TEST(Planner, ADrainThatVanishedWithoutOurRemoveIsHeldUntilItsTimeout) {
  // A reload left the draining server out of the new worker; the old worker still streams its responses.
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-b", "Terminating:Wait"}});
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2")})}, {{"web/i-b", {T0 - 10s}}});
  in.hooks["web-asg/drain-hook/i-b"] = HookWait{"web-asg", "drain-hook", "terminating", T0 - 10s, T0 - 10s, false};
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::CompleteLifecycle), 0u);
  EXPECT_EQ(p.drains.count("web/i-b"), 1u) << "the drain is remembered while it may still run";
  EXPECT_EQ(p.next_due, T0 + 10s);
  in.drains = p.drains;
  in.now = T0 + 20s;
  EXPECT_EQ(count_kind(plan(in), OpKind::CompleteLifecycle), 1u);
}

TEST(Planner, HooksThatAreNotConfiguredAreNeverCompletedButTheirInstancesAreDrained) {
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-b", "Terminating:Wait"}, {"i-c", "Terminating:Wait"}});
  want.hook_terminating.clear();
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3")})});
  Plan p = plan(in);
  EXPECT_THAT(p.ops, ElementsAre(simple(OpKind::Drain, "web", "i-b", "leaving the group (Terminating:Wait)")));
  EXPECT_TRUE(p.hooks.empty());
}

TEST(Planner, HeartbeatsKeepALongDrainAliveThenTheDrainTimeoutEndsIt) {
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-b", "Terminating:Wait"}});
  want.drain_timeout = 100s;
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3", 80, AdminState::Drain, 2)})},
                  {{"web/i-b", {T0}}});
  in.hooks["web-asg/drain-hook/i-b"] = HookWait{"web-asg", "drain-hook", "terminating", T0, T0, false};
  in.now = T0 + 19s;
  EXPECT_THAT(lifecycle_ops(plan(in)), IsEmpty());
  in.now = T0 + 21s;
  auto ops = lifecycle_ops(plan(in));
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::Heartbeat);
  EXPECT_EQ(ops[0].hook, "drain-hook");
  // The applier recorded the heartbeat: the next one is due a third of the 60 s timeout later.
  in.hooks["web-asg/drain-hook/i-b"].last_beat = T0 + 21s;
  in.now = T0 + 35s;
  Plan p = plan(in);
  EXPECT_THAT(lifecycle_ops(p), IsEmpty());
  EXPECT_EQ(p.next_due, T0 + 41s);
  // drain_timeout: removed with its sessions cut, then completed.
  in.now = T0 + 100s;
  p = plan(in);
  ASSERT_EQ(p.ops.size(), 2u);
  EXPECT_EQ(p.ops[0].kind, OpKind::Remove);
  EXPECT_EQ(p.ops[1].kind, OpKind::CompleteLifecycle);
}

TEST(Planner, ExplicitDeparturesSkipTheRemovalCap) {
  // Four of five leave by the group's word, one more vanished: the four drain now, the vanished one uses the cap.
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-b", "Terminating:Wait"}, {"i-c", "Detaching"},
                                                {"i-d", "EnteringStandby"}, {"i-e", "Warmed:Pending"}});
  want.hook_terminating.clear();
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3"), as("i-c", "127.0.0.4"),
                                      as("i-d", "127.0.0.5"), as("i-e", "127.0.0.6"), as("i-f", "127.0.0.7")})});
  in.options.max_remove_fraction = 0.2;  // one of six
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::Drain), 5u);
  EXPECT_THAT(p.warnings, IsEmpty());
  // The cap still holds members that vanish without a reason: two vanished, one drained, one held.
  in.actual[0].servers.push_back(as("i-g", "127.0.0.8"));
  p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::Drain), 5u);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_THAT(p.warnings[0], HasSubstr("removal cap held back 1 of 2"));
}

TEST(Planner, ExplicitDeparturesDrainEvenWhenDiscoveryWasOtherwiseIncomplete) {
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-b", "Terminating:Wait"}});
  want.discovery_complete = false;
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3"), as("i-c", "127.0.0.4")})});
  Plan p = plan(in);
  ASSERT_FALSE(p.ops.empty());
  EXPECT_EQ(p.ops[0], simple(OpKind::Drain, "web", "i-b", "leaving the group (Terminating:Wait)"));
  EXPECT_EQ(count_kind(p, OpKind::Drain), 1u);
  ASSERT_EQ(p.warnings.size(), 1u) << "i-c vanished without a reason: held";
}

TEST(Planner, TwoBackendsOfOneGroupCompleteTheHookOnlyWhenBothAreDone) {
  auto web = hooked({}, {{"i-b", "Terminating:Wait"}});
  auto api = hooked({}, {{"i-b", "Terminating:Wait"}});
  api.backend = "api";
  api.group = web.group;
  auto in = input({web, api}, {ab("web", {as("i-b", "127.0.0.3", 80, AdminState::Drain, 0)}),
                               ab("api", {as("i-b", "127.0.0.3", 80, AdminState::Drain, 5)})},
                  {{"web/i-b", {T0}}, {"api/i-b", {T0}}});
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::Remove), 1u);
  EXPECT_EQ(count_kind(p, OpKind::CompleteLifecycle), 0u) << "api still streams from it";
  in.drains = p.drains;
  in.hooks = p.hooks;
  in.actual = {ab("web", {}), ab("api", {as("i-b", "127.0.0.3", 80, AdminState::Drain, 0)})};
  p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::CompleteLifecycle), 1u);
}

DesiredBackend gated(std::map<std::string, std::string> lifecycle, std::vector<DesiredServer> launching) {
  DesiredBackend b = db("web", {ds("i-a", "127.0.0.2")});
  b.lifecycle = std::move(lifecycle);
  b.hook_launching = "warm-up";
  b.launch_timeout = 300s;
  b.launching = std::move(launching);
  return b;
}

ActualServer checked(std::string name, std::string addr, AdminState admin, bool passed) {
  ActualServer s = as(std::move(name), std::move(addr), 80, admin);
  s.check_enabled = true;
  s.check_passed = passed;
  s.up = passed;
  return s;
}

TEST(Planner, LaunchHookAddsHeldThenEnablesAndContinuesOnceACheckPassed) {
  auto want = gated({{"i-n", "Pending:Wait"}}, {ds("i-n", "127.0.0.9")});
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2")})});
  Plan p = plan(in);
  ASSERT_EQ(p.ops.size(), 1u);
  EXPECT_EQ(p.ops[0].kind, OpKind::Add);
  EXPECT_TRUE(p.ops[0].hold);
  EXPECT_EQ(p.ops[0].address, "127.0.0.9");
  EXPECT_EQ(p.next_due, T0 + 300s);

  // Added, no check passed yet (a new server starts DOWN or in an initial state): kept out of rotation, not drained.
  in.hooks = p.hooks;
  in.now = T0 + 1s;
  in.actual = {ab("web", {as("i-a", "127.0.0.2"), checked("i-n", "127.0.0.9", AdminState::Drain, false)})};
  EXPECT_THAT(plan(in).ops, IsEmpty());

  in.actual = {ab("web", {as("i-a", "127.0.0.2"), checked("i-n", "127.0.0.9", AdminState::Drain, true)})};
  p = plan(in);
  ASSERT_EQ(p.ops.size(), 2u);
  EXPECT_EQ(p.ops[0], simple(OpKind::Enable, "web", "i-n", "passed its first health check"));
  EXPECT_EQ(p.ops[1].kind, OpKind::CompleteLifecycle);
  EXPECT_EQ(p.ops[1].result, "CONTINUE");
  EXPECT_EQ(p.ops[1].hook, "warm-up");

  // Between CONTINUE and InService (Pending:Proceed) it stays in rotation: arriving, never drained.
  in.hooks = p.hooks;
  in.hooks.begin()->second.completed = true;
  in.desired[0].lifecycle = {{"i-n", "Pending:Proceed"}};
  in.desired[0].launching.clear();
  in.actual = {ab("web", {as("i-a", "127.0.0.2"), checked("i-n", "127.0.0.9", AdminState::Ready, true)})};
  p = plan(in);
  EXPECT_THAT(p.ops, IsEmpty());
  EXPECT_TRUE(p.hooks.empty()) << "no longer waiting: forgotten";
}

TEST(Planner, LaunchHookAbandonsAnInstanceThatNeverPassedACheck) {
  auto want = gated({{"i-n", "Pending:Wait"}}, {ds("i-n", "127.0.0.9")});
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2"), checked("i-n", "127.0.0.9", AdminState::Drain, false)})});
  in.hooks["web-asg/warm-up/i-n"] = HookWait{"web-asg", "warm-up", "launching", T0, T0, false};
  in.now = T0 + 299s;
  EXPECT_THAT(plan(in).ops, IsEmpty());
  in.now = T0 + 300s;
  auto ops = lifecycle_ops(plan(in));
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].result, "ABANDON");
  EXPECT_THAT(ops[0].reason, HasSubstr("no passed health check within 300s"));
}

// --- health fed back to the group -----------------------------------------------------------------------------------

DesiredBackend fed_back(std::vector<DesiredServer> servers) {
  DesiredBackend b = db("web", std::move(servers));
  b.health_feedback = true;
  b.down_for = 30s;
  b.feedback_max_share = 0.25;
  b.in_service = b.servers.size();
  return b;
}

ActualServer down(std::string name, std::string addr, AdminState admin = AdminState::Ready) {
  ActualServer s = checked(std::move(name), std::move(addr), admin, false);
  s.up = false;
  return s;
}

TEST(Planner, AServerDownForDownForIsReportedUnhealthyOnce) {
  auto in = input({fed_back({ds("i-a", "127.0.0.2"), ds("i-b", "127.0.0.3"), ds("i-c", "127.0.0.4"),
                             ds("i-d", "127.0.0.5")})},
                  {ab("web", {checked("i-a", "127.0.0.2", AdminState::Ready, true), down("i-b", "127.0.0.3"),
                              checked("i-c", "127.0.0.4", AdminState::Ready, true),
                              checked("i-d", "127.0.0.5", AdminState::Ready, true)})});
  Plan p = plan(in);
  EXPECT_THAT(p.ops, IsEmpty());
  EXPECT_EQ(p.down_since.at("web/i-b"), T0);
  EXPECT_EQ(p.next_due, T0 + 30s);
  in.down_since = p.down_since;
  in.now = T0 + 30s;
  p = plan(in);
  ASSERT_EQ(p.ops.size(), 1u);
  EXPECT_EQ(p.ops[0].kind, OpKind::ReportUnhealthy);
  EXPECT_EQ(p.ops[0].group, "web-asg");
  EXPECT_EQ(p.ops[0].server, "i-b");
  EXPECT_EQ(p.ops[0].reason, "DOWN for 30s by HAProxy's health checks");
  // The applier recorded the report, the group marked it Unhealthy: never again while the group has it so.
  in.reported = {"web-asg/i-b"};
  in.desired[0].unhealthy_or_leaving = {"i-b"};
  in.now = T0 + 60s;
  p = plan(in);
  EXPECT_THAT(p.ops, IsEmpty());
  EXPECT_EQ(p.reported, std::set<std::string>{"web-asg/i-b"});
  // Gone from the group (replaced): forgotten.
  in.desired[0].servers.erase(in.desired[0].servers.begin() + 1);
  in.desired[0].unhealthy_or_leaving.clear();
  EXPECT_TRUE(plan(in).reported.empty());
}

TEST(Planner, AReportTheGroupIgnoredIsForgottenAndBlocksNothing) {
  // Reported within the group's grace period: AWS says OK and does nothing; the instance stays InService, Healthy.
  auto in = input({fed_back({ds("i-a", "127.0.0.2"), ds("i-b", "127.0.0.3"), ds("i-c", "127.0.0.4"),
                             ds("i-d", "127.0.0.5")})},
                  {ab("web", {checked("i-a", "127.0.0.2", AdminState::Ready, true),
                              checked("i-b", "127.0.0.3", AdminState::Ready, true), down("i-c", "127.0.0.4"),
                              checked("i-d", "127.0.0.5", AdminState::Ready, true)})});
  in.reported = {"web-asg/i-b"};
  in.down_since = {{"web/i-c", T0 - 60s}};
  Plan p = plan(in);
  EXPECT_TRUE(p.reported.empty());
  ASSERT_EQ(count_kind(p, OpKind::ReportUnhealthy), 1u) << "the cap is free for i-c";
  // A partial discovery decides nothing but keeps both the reports and the DOWN clocks.
  in.desired[0].discovery_complete = false;
  p = plan(in);
  EXPECT_EQ(p.reported, std::set<std::string>{"web-asg/i-b"});
  EXPECT_EQ(p.down_since.at("web/i-c"), T0 - 60s);
  EXPECT_EQ(count_kind(p, OpKind::ReportUnhealthy), 0u);
}

TEST(Planner, ThreeOfFourDownWithAQuarterShareReportsExactlyOneAndSaysWhy) {
  auto in = input({fed_back({ds("i-a", "127.0.0.2"), ds("i-b", "127.0.0.3"), ds("i-c", "127.0.0.4"),
                             ds("i-d", "127.0.0.5")})},
                  {ab("web", {checked("i-a", "127.0.0.2", AdminState::Ready, true), down("i-b", "127.0.0.3"),
                              down("i-c", "127.0.0.4"), down("i-d", "127.0.0.5")})});
  in.down_since = {{"web/i-b", T0 - 40s}, {"web/i-c", T0 - 40s}, {"web/i-d", T0 - 40s}};
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::ReportUnhealthy), 1u);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_THAT(p.warnings[0], HasSubstr("2 more servers DOWN by HAProxy's checks not reported: at most 1 of 4"));
  EXPECT_THAT(p.warnings[0], HasSubstr("the application or the network is broken"));
  // While that one is not replaced (the group has it Unhealthy), nobody else is reported.
  in.reported = {"web-asg/" + p.ops[0].server};
  in.desired[0].unhealthy_or_leaving = {p.ops[0].server};
  EXPECT_EQ(count_kind(plan(in), OpKind::ReportUnhealthy), 0u);
}

TEST(Planner, HealthFeedbackIgnoresDrainingMaintenanceUncheckedAndIncompleteDiscovery) {
  auto want = fed_back({ds("i-a", "127.0.0.2"), ds("i-b", "127.0.0.3"), ds("i-c", "127.0.0.4")});
  ActualServer unchecked = as("i-c", "127.0.0.4");
  unchecked.up = false;  // no check: HAProxy's state says nothing about the application
  auto in = input({want}, {ab("web", {down("i-a", "127.0.0.2", AdminState::Drain),
                                      down("i-b", "127.0.0.3", AdminState::Maint), unchecked})});
  in.down_since = {{"web/i-a", T0 - 60s}, {"web/i-b", T0 - 60s}, {"web/i-c", T0 - 60s}};
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::ReportUnhealthy), 0u);
  EXPECT_TRUE(p.down_since.empty());

  in.actual = {ab("web", {down("i-a", "127.0.0.2"), checked("i-b", "127.0.0.3", AdminState::Ready, true),
                          checked("i-c", "127.0.0.4", AdminState::Ready, true)})};
  in.desired[0].discovery_complete = false;
  EXPECT_EQ(count_kind(plan(in), OpKind::ReportUnhealthy), 0u) << "a partial discovery reports nothing";
  in.desired[0].discovery_complete = true;
  EXPECT_EQ(count_kind(plan(in), OpKind::ReportUnhealthy), 1u);
  in.desired[0].health_feedback = false;
  EXPECT_EQ(count_kind(plan(in), OpKind::ReportUnhealthy), 0u) << "opt-in";
}

TEST(Planner, UnmanagedActualBackendsAreIgnored) {
  auto in = input({}, {ab("stats", {as("x", "10.0.0.1", 80, AdminState::Maint)})});
  EXPECT_EQ(plan(in), Plan{});
}

TEST(Planner, DuplicateDesiredBackendIsUsedOnceWithAWarning) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1")}), db("web", {ds("i-a", "10.0.0.2")})}, {ab("web", {})});
  Plan p = plan(in);
  EXPECT_THAT(p.ops, ElementsAre(add("web", "i-a", "10.0.0.1")));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_THAT(p.warnings[0], HasSubstr("web"));
}

TEST(Planner, DuplicateServerNamesGiveNoDuplicateOps) {
  auto in = input({db("web", {ds("i-a", "10.0.0.1"), ds("i-a", "10.0.0.2"), ds("i-b", "10.0.0.3"), ds("i-b", "10.0.0.3")})},
                  {ab("web", {as("i-b", "10.0.0.9", 80, AdminState::Maint), as("i-b", "10.0.0.8")})});
  Plan p = plan(in);
  expect_well_formed(p);
  EXPECT_THAT(p.ops, ElementsAre(add("web", "i-a", "10.0.0.1"),
                                 set_address("web", "i-b", "10.0.0.3", 80, "address 10.0.0.9:80 -> 10.0.0.3:80"),
                                 enable("web", "i-b", "was in maintenance")));
}

// --- ordering ---------------------------------------------------------------------------------------------------------

TEST(Planner, CapacityFirstThenDrainThenRemoveEachByBackendAndServer) {
  auto in = input(
      {db("zeta", {ds("i-z1", "10.0.1.1"), ds("i-z2", "10.0.1.2")}),
       db("alpha", {ds("i-a3", "10.0.0.3"), ds("i-a1", "10.0.0.1"), ds("i-a2", "10.0.0.20"), ds("i-a4", "10.0.0.4")})},
      {ab("zeta", {as("i-z2", "10.0.1.2", 80, AdminState::Drain, 1), as("i-zd", "10.0.1.9"),
                   as("i-zm", "10.0.1.8", 80, AdminState::Maint), as("i-zk", "10.0.1.7"), as("i-zx", "10.0.1.6")}),
       ab("alpha", {as("i-a2", "10.0.0.2", 80, AdminState::Maint), as("i-a4", "10.0.0.4"),
                    as("i-ad", "10.0.0.9", 80, AdminState::Drain, 0)})},
      {{"alpha/i-ad", {T0 - 3s}}});
  in.options.unlimited_removal = true;
  Plan p = plan(in);
  expect_well_formed(p);
  EXPECT_THAT(p.ops, ElementsAre(add("alpha", "i-a1", "10.0.0.1"), add("alpha", "i-a3", "10.0.0.3"),
                                 add("zeta", "i-z1", "10.0.1.1"),
                                 set_address("alpha", "i-a2", "10.0.0.20", 80, "address 10.0.0.2:80 -> 10.0.0.20:80"),
                                 enable("alpha", "i-a2", "was in maintenance"), enable("zeta", "i-z2", "back in service"),
                                 drain("zeta", "i-zd"), drain("zeta", "i-zk"), drain("zeta", "i-zx"),
                                 remove("alpha", "i-ad", "drained"),
                                 remove("zeta", "i-zm", "in maintenance, not a member")));
  EXPECT_EQ(p.drains, (DrainBook{{"zeta/i-zd", {T0}}, {"zeta/i-zk", {T0}}, {"zeta/i-zx", {T0}}}));
}

TEST(Planner, SameInputSamePlan) {
  auto in = input({db("web", desired_range(0, 5))}, {ab("web", actual_range(3, 12))}, {{"web/i-010", {T0 - 2s}}});
  EXPECT_EQ(plan(in), plan(in));
}

// The skip of an unchanged cycle rests on this: a plan with nothing to do whose state out equals its state in (what
// the syncer keeps as its reference) stays the same plan, at any later time before its stable_until.
TEST(Planner, NothingToDoStaysNothingToDoUntilStableUntil) {
  std::mt19937 rng(4242);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  int checked = 0, timed = 0;
  for (int round = 0; round < 3000; ++round) {
    DesiredBackend want = db("web", {});
    want.drain_timeout = std::chrono::seconds(1 + pick(60));
    if (pick(2)) want.hook_terminating = "drain-hook";
    if (pick(2)) want.hook_launching = "launch-hook";
    want.launch_timeout = std::chrono::seconds(1 + pick(300));
    want.hook_heartbeat_timeout = std::chrono::seconds(3 + pick(120));
    want.health_feedback = pick(2) == 1;
    want.down_for = std::chrono::seconds(1 + pick(60));
    ActualBackend have = ab("web", {});
    PlanInput in = input({}, {}, {}, T0);
    for (int i = 0; i < 4; ++i) {
      const std::string name = "i-" + std::to_string(i), addr = "127.0.0." + std::to_string(i + 2);
      switch (pick(4)) {
        case 0: want.servers.push_back(ds(name, addr)); ++want.in_service; break;
        case 1: want.lifecycle[name] = "Terminating:Wait"; break;
        case 2: want.lifecycle[name] = "Pending:Wait"; want.launching.push_back(ds(name, addr)); break;
        default: break;  // gone from the group
      }
      if (pick(3) > 0) {
        ActualServer a = as(name, addr, 80, static_cast<AdminState>(pick(3)), pick(2) * (1 + pick(3)));
        a.up = pick(3) > 0;
        a.check_enabled = pick(2) == 1;
        a.check_passed = a.check_enabled && pick(2) == 1;
        have.servers.push_back(a);
      }
      if (pick(3) == 0) in.drains["web/" + name] = DrainRecord{T0 - std::chrono::seconds(pick(90))};
      const TimePoint since = T0 - std::chrono::seconds(pick(400));
      if (pick(3) == 0)
        in.hooks["web-asg/drain-hook/" + name] =
            HookWait{"web-asg", "drain-hook", "terminating", since, since + std::chrono::seconds(pick(30)), pick(4) == 0};
      if (pick(3) == 0)
        in.hooks["web-asg/launch-hook/" + name] = HookWait{"web-asg", "launch-hook", "launching", since, since, false};
      if (pick(3) == 0) in.down_since["web/" + name] = T0 - std::chrono::seconds(pick(90));
    }
    in.desired = {want};
    in.actual = {have};
    // Carry the state out of a first plan back in (as the daemon does), then look for a fixed point.
    for (int step = 0; step < 3; ++step) {
      Plan p = plan(in);
      const bool fixed = p.drains == in.drains && p.hooks == in.hooks && p.down_since == in.down_since &&
                         p.reported == in.reported;
      if (p.empty() && p.warnings.empty() && fixed) {
        ++checked;
        const std::optional<TimePoint> until = stable_until(in, p);
        timed += until ? 1 : 0;
        const TimePoint end = until.value_or(T0 + 24h);
        for (TimePoint t : {T0 + 1ms, T0 + (end - T0) / 2, end - 1ms}) {
          if (t <= T0) continue;
          PlanInput later = in;
          later.now = t;
          EXPECT_EQ(plan(later), p) << "round " << round << " at T0 + "
                                    << std::chrono::duration_cast<std::chrono::milliseconds>(t - T0).count() << " ms";
        }
        break;
      }
      in.drains = p.drains;
      in.hooks = p.hooks;
      in.down_since = p.down_since;
      in.reported = p.reported;
    }
  }
  EXPECT_GE(checked, 100) << "too few plans with nothing to do: the test would prove little";
  EXPECT_GE(timed, 30) << "too few of them with a timed rule pending";
}

TEST(Planner, StableUntilIsTheEarliestDrainTimeoutOrNextDue) {
  auto in = input({db("web", {ds("i-a", "127.0.0.2")})},
                  {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3", 80, AdminState::Drain, 2),
                              as("i-c", "127.0.0.4", 80, AdminState::Drain, 1)})},
                  {{"web/i-b", {T0 - 10s}}, {"web/i-c", {T0 - 20s}}});
  Plan p = plan(in);
  ASSERT_TRUE(p.empty()) << "both still draining";
  EXPECT_EQ(stable_until(in, p), T0 + 10s) << "i-c's 30 s drain_timeout";
  EXPECT_FALSE(p.next_due.has_value()) << "the drain watch, not next_due, wakes the loop for a drain timeout";
  auto idle = input({db("web", {ds("i-a", "127.0.0.2")})}, {ab("web", {as("i-a", "127.0.0.2")})});
  EXPECT_FALSE(stable_until(idle, plan(idle)).has_value()) << "nothing timed: the plan holds whatever the time";
}

// --- several cycles against a pretend HAProxy ------------------------------------------------------------------------

TEST(Planner, ApplyingAPlanThenPlanningAgainGivesNothing) {
  std::vector<DesiredBackend> desired{db("web", {ds("i-a", "10.0.0.1"), ds("i-b", "10.0.0.22", 8080),
                                                 ds("i-c", "10.0.0.3"), ds("i-d", "10.0.0.4")})};
  std::vector<ActualBackend> actual{ab("web", {as("i-b", "10.0.0.2"), as("i-c", "10.0.0.3", 80, AdminState::Drain, 2),
                                               as("i-d", "10.0.0.4", 80, AdminState::Maint)})};
  Plan p = plan(input(desired, actual, {{"web/i-c", {T0 - 5s}}}));
  EXPECT_EQ(p.ops.size(), 4u);
  EXPECT_THAT(p.drains, IsEmpty());
  apply_plan(p, actual);
  EXPECT_EQ(plan(input(desired, actual, p.drains, T0 + 1s)), Plan{});
}

TEST(Planner, ScaleOutThenScaleInOverSeveralCycles) {
  std::vector<ActualBackend> actual{ab("web", {as("static", "10.9.0.1")}), ab("api", {})};
  DrainBook book;
  TimePoint now = T0;
  std::set<std::string> unmanaged{"web/static"};
  auto cycle = [&](const std::vector<DesiredBackend>& desired) {
    PlanInput in = input(desired, actual, book, now);
    in.unmanaged = unmanaged;
    Plan p = plan(in);
    expect_well_formed(p);
    apply_plan(p, actual);
    book = p.drains;
    now += 5s;
    return p;
  };

  // Start: two members in web, one in api.
  std::vector<DesiredBackend> d{db("web", desired_range(1, 3)), db("api", desired_range(50, 51))};
  Plan p = cycle(d);
  EXPECT_EQ(count_kind(p, OpKind::Add), 3u);
  EXPECT_TRUE(cycle(d).empty());

  // Scale out web to 6.
  d[0].servers = desired_range(1, 7);
  p = cycle(d);
  EXPECT_EQ(p.ops.size(), 4u);
  EXPECT_EQ(count_kind(p, OpKind::Add), 4u);
  EXPECT_EQ(cycle(d), Plan{});

  // Scale in web to 1 member while each leaving server still has a session: 6 serving -> 3 drain first.
  d[0].servers = desired_range(6, 7);
  p = cycle(d);
  EXPECT_THAT(p.ops, ElementsAre(drain("web", "i-001"), drain("web", "i-002"), drain("web", "i-003")));
  EXPECT_EQ(p.warnings.size(), 1u);
  for (int i = 1; i <= 5; ++i) set_sessions(actual, "web", "i-00" + std::to_string(i), 1);

  // 3 serving left: one more drains.
  p = cycle(d);
  EXPECT_THAT(p.ops, ElementsAre(drain("web", "i-004")));
  // i-001 finished its requests; i-002 and i-003 still busy.
  set_sessions(actual, "web", "i-001", 0);
  // 2 serving (i-005, i-006): floor(1) = 1 drains, i-001 removed.
  p = cycle(d);
  EXPECT_THAT(p.ops, ElementsAre(drain("web", "i-005"), remove("web", "i-001", "drained")));
  EXPECT_THAT(p.warnings, IsEmpty());

  // Meanwhile a member of api changes address and one joins.
  d[1].servers = {ds("i-050", "10.0.0.150"), ds("i-051", "10.0.0.51")};
  p = cycle(d);
  EXPECT_THAT(p.ops, ElementsAre(add("api", "i-051", "10.0.0.51"),
                                 set_address("api", "i-050", "10.0.0.150", 80, "address 10.0.0.50:80 -> 10.0.0.150:80")));

  // i-002 and i-003 started draining at T0+20s; it is now T0+40s. At T0+50s the 30 s timeout hits them.
  EXPECT_EQ(now, T0 + 40s);
  EXPECT_EQ(book.at("web/i-002").since, T0 + 20s);
  EXPECT_TRUE(cycle(d).ops.empty());  // T0+40s: 20 s in
  EXPECT_TRUE(cycle(d).ops.empty());  // T0+45s: 25 s in
  p = cycle(d);                       // T0+50s
  EXPECT_THAT(p.ops, ElementsAre(remove("web", "i-002", "drain timeout after 30s with 1 sessions"),
                                 remove("web", "i-003", "drain timeout after 30s with 1 sessions")));

  // The operator scales back out before i-004 and i-005 finish: they come back into service.
  d[0].servers = desired_range(4, 7);
  p = cycle(d);
  EXPECT_THAT(p.ops, ElementsAre(enable("web", "i-004", "back in service"), enable("web", "i-005", "back in service")));
  EXPECT_THAT(book, IsEmpty());
  EXPECT_EQ(cycle(d), Plan{});

  // The final state is exactly what is desired, plus the untouched static server.
  ASSERT_NE(find_server(actual, "web", "static"), nullptr);
  EXPECT_EQ(actual[0].servers.size(), 4u);
  for (const DesiredServer& s : d[0].servers) {
    const ActualServer* a = find_server(actual, "web", s.name);
    ASSERT_NE(a, nullptr) << s.name;
    EXPECT_EQ(a->address, s.address);
    EXPECT_EQ(a->admin, AdminState::Ready);
  }
  EXPECT_EQ(actual[1].servers.size(), 2u);
}

TEST(Planner, DiscoveryFailureInTheMiddleOfAScaleInHoldsEverythingThenResumes) {
  std::vector<DesiredBackend> d{db("web", desired_range(0, 1))};
  std::vector<ActualBackend> actual{ab("web", actual_range(0, 4))};
  Plan p = plan(input(d, actual));
  EXPECT_EQ(count_kind(p, OpKind::Drain), 2u);
  apply_plan(p, actual);

  // Discovery fails: it reports nothing at all and is incomplete. Nothing is drained or removed, even the drained.
  auto failed = d;
  failed[0].servers.clear();
  failed[0].discovery_complete = false;
  p = plan(input(failed, actual, p.drains, T0 + 1h));
  EXPECT_TRUE(p.ops.empty());
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.drains.size(), 2u);

  // Discovery is back: the drained ones (no sessions) go, the rest continues under the cap.
  p = plan(input(d, actual, p.drains, T0 + 1h + 5s));
  EXPECT_THAT(p.ops, ElementsAre(drain("web", "i-003"), remove("web", "i-001", "drained"),
                                 remove("web", "i-002", "drained")));
}

// Random states: every plan is well formed, and repeating plan/apply (sessions fall to 0 now and then, time goes
// on) always reaches exactly the desired membership, after which the plan is empty.
TEST(Planner, RandomStatesConverge) {
  std::mt19937 rng(12345);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (int round = 0; round < 300; ++round) {
    std::vector<DesiredBackend> desired;
    std::vector<ActualBackend> actual;
    DrainBook book;
    std::set<std::string> unmanaged;
    int backends = 1 + pick(3);
    for (int b = 0; b < backends; ++b) {
      std::string be = "be" + std::to_string(b);
      DesiredBackend want = db(be, {});
      want.drain_timeout = std::chrono::milliseconds(1000 * pick(60));
      ActualBackend have = ab(be, {});
      for (int i = 0; i < 12; ++i) {
        std::string name = "i-" + std::to_string(i);
        std::string addr = "10." + std::to_string(b) + ".0." + std::to_string(i);
        bool in_desired = pick(2) == 0;
        bool in_actual = pick(3) != 0;
        if (in_desired) want.servers.push_back(ds(name, addr, 80));
        if (in_actual) {
          ActualServer s = as(name, pick(4) == 0 ? addr + "0" : addr, pick(5) == 0 ? 81 : 80,
                              static_cast<AdminState>(pick(3)), pick(3) == 0 ? 0 : pick(20));
          have.servers.push_back(s);
          if (pick(3) == 0) book[be + "/" + name] = {T0 - std::chrono::seconds(pick(90))};
          if (pick(10) == 0) unmanaged.insert(be + "/" + name);
        } else if (pick(8) == 0) {
          book[be + "/" + name] = {T0 - 5s};  // stale entry
        }
      }
      desired.push_back(want);
      actual.push_back(have);
    }
    PlannerOptions options;
    options.max_remove_fraction = 0.1 * pick(11);
    options.unlimited_removal = pick(5) == 0;

    const std::vector<ActualBackend> initial = actual;
    TimePoint now = T0;
    bool converged = false;
    for (int cycle = 0; cycle < 40 && !converged; ++cycle) {
      PlanInput in = input(desired, actual, book, now);
      in.unmanaged = unmanaged;
      in.options = options;
      Plan p = plan(in);
      SCOPED_TRACE("round " + std::to_string(round) + " cycle " + std::to_string(cycle));
      expect_well_formed(p);
      EXPECT_FALSE(p.reload_needed);
      for (const auto& [key, rec] : p.drains) {
        EXPECT_EQ(unmanaged.count(key), 0u) << key;
        EXPECT_LE(rec.since, now) << key;
      }
      for (const Op& op : p.ops) EXPECT_EQ(unmanaged.count(op.backend + "/" + op.server), 0u) << op.server;
      if (p.ops.empty()) {
        converged = p.drains.empty();
      }
      apply_plan(p, actual);
      if (::testing::Test::HasFatalFailure()) return;
      book = p.drains;
      now += 7s;
      for (ActualBackend& b : actual)
        for (ActualServer& s : b.servers)
          if (pick(2) == 0) s.current_sessions = 0;
    }
    ASSERT_TRUE(converged) << "round " << round;

    // Converged: managed servers are exactly the desired ones, ready, at their address; unmanaged ones unchanged.
    for (std::size_t b = 0; b < desired.size(); ++b) {
      const std::string& be = desired[b].backend;
      std::set<std::string> want_names, have_names;
      for (const DesiredServer& s : desired[b].servers) {
        if (unmanaged.count(be + "/" + s.name)) continue;
        want_names.insert(s.name);
        const ActualServer* a = find_server(actual, be, s.name);
        ASSERT_NE(a, nullptr) << be << "/" << s.name;
        EXPECT_EQ(a->address, s.address);
        EXPECT_EQ(a->port, s.port);
        EXPECT_EQ(a->admin, AdminState::Ready);
      }
      for (const ActualServer& s : actual[b].servers) {
        if (unmanaged.count(be + "/" + s.name)) {
          const ActualServer* before = find_server(initial, be, s.name);
          ASSERT_NE(before, nullptr);
          EXPECT_EQ(s.address, before->address);
          EXPECT_EQ(s.admin, before->admin);
          continue;
        }
        have_names.insert(s.name);
      }
      EXPECT_EQ(want_names, have_names) << be;
    }
  }
}


// --- A cluster of load balancers (key cluster: {group, node_id}) ---

ClusterView cluster_of(std::set<std::string> nodes, std::map<std::string, std::set<std::string>> drained = {}) {
  ClusterView c;
  c.enabled = true;
  c.self = "i-lb1";
  c.nodes = std::move(nodes);
  c.drained = std::move(drained);
  return c;
}

// i-b waits on the termination hook and this node no longer serves it (drained and removed earlier).
PlanInput cluster_input(ClusterView c, TimePoint since = T0) {
  auto want = hooked({ds("i-a", "127.0.0.2")}, {{"i-b", "Terminating:Wait"}});
  auto in = input({want}, {ab("web", {as("i-a", "127.0.0.2")})});
  in.hooks["web-asg/drain-hook/i-b"] = HookWait{"web-asg", "drain-hook", "terminating", since, since, false};
  in.cluster = std::move(c);
  return in;
}

TEST(PlannerCluster, DoneHereRecordsItAndKeepsTheHookWhileAnotherNodeStillDrains) {
  auto in = cluster_input(cluster_of({"i-lb1", "i-lb2"}));
  in.now = T0 + 1s;
  Plan p = plan(in);
  auto ops = lifecycle_ops(p);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::RecordDrained);
  EXPECT_EQ(ops[0].server, "i-b");
  EXPECT_EQ(ops[0].tag_key, "haproxy-asg:drained:i-lb1");
  EXPECT_EQ(ops[0].tag_value, "2023-11-14T22:13:21Z");
  EXPECT_EQ(ops[0].reason, "not served by HAProxy here; waiting for node i-lb2");
  EXPECT_EQ(p.next_due, T0 + 20s) << "the next heartbeat (a third of 60 s) comes before the drain timeout (30 s)";
  // Recorded (the applier marks it): not written again; the heartbeat keeps the hook alive meanwhile.
  in.hooks = p.hooks;
  in.hooks.begin()->second.recorded = true;
  in.now = T0 + 21s;
  ops = lifecycle_ops(plan(in));
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::Heartbeat);
  EXPECT_EQ(ops[0].reason, "waiting 21s for node i-lb2 to drain it");
}

TEST(PlannerCluster, CompletesOnceEveryCurrentNodeRecordedItsDrain) {
  auto in = cluster_input(cluster_of({"i-lb1", "i-lb2", "i-lb3"}, {{"i-b", {"i-lb2", "i-lb3"}}}));
  in.now = T0 + 5s;
  auto ops = lifecycle_ops(plan(in));
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::CompleteLifecycle);
  EXPECT_EQ(ops[0].result, "CONTINUE");
  EXPECT_EQ(ops[0].reason, "not served by HAProxy; every other node of the cluster drained it too (i-lb2, i-lb3)");
}

TEST(PlannerCluster, ANodeStillServingNeverCompletesWhateverTheOthersRecorded) {
  auto in = cluster_input(cluster_of({"i-lb1", "i-lb2"}, {{"i-b", {"i-lb2"}}}));
  in.actual = {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3", 80, AdminState::Drain, 3)})};
  in.drains = {{"web/i-b", {T0}}};
  in.now = T0 + 5s;
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::CompleteLifecycle), 0u);
  EXPECT_EQ(count_kind(p, OpKind::RecordDrained), 0u) << "not drained here yet";
}

TEST(PlannerCluster, ANodeLeavingMidDrainIsNoLongerWaitedFor) {
  auto in = cluster_input(cluster_of({"i-lb1", "i-lb2"}));
  in.now = T0 + 1s;
  EXPECT_EQ(count_kind(plan(in), OpKind::CompleteLifecycle), 0u);
  in.cluster.nodes = {"i-lb1"};  // i-lb2 left InService (scaled in, or in Standby)
  in.now = T0 + 2s;
  auto ops = lifecycle_ops(plan(in));
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::CompleteLifecycle);
  EXPECT_EQ(ops[0].reason, "not served by HAProxy");
}

TEST(PlannerCluster, ANodeThatNeverFinishesGetsHeartbeatsThenTheDrainTimeout) {
  auto in = cluster_input(cluster_of({"i-lb1", "i-lb2"}));
  in.hooks.begin()->second.recorded = true;
  auto& want = in.desired.front();
  want.drain_timeout = 100s;
  int beats = 0;
  for (auto t = T0 + 1s; t < T0 + 100s; t += 1s) {
    in.now = t;
    Plan p = plan(in);
    ASSERT_EQ(count_kind(p, OpKind::CompleteLifecycle), 0u) << "at " << (t - T0).count();
    ASSERT_LE(*p.next_due, T0 + 100s);
    for (const Op& op : p.ops)
      if (op.kind == OpKind::Heartbeat) {
        ++beats;
        in.hooks.begin()->second.last_beat = t;  // as the applier does
      }
  }
  EXPECT_EQ(beats, 4) << "every 20 s (a third of the 60 s heartbeat timeout)";
  in.now = T0 + 100s;
  auto ops = lifecycle_ops(plan(in));
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::CompleteLifecycle);
  EXPECT_EQ(ops[0].reason, "not served by HAProxy; drain timeout 100s passed waiting for node i-lb2");
}

// Another node may have seen the wait up to an interval later than this one (no events): it gets its full drain
// timeout too, so this node waits two polling intervals more before giving up on it.
TEST(PlannerCluster, TheWaitForAnotherNodeAllowsForItsLaterSight) {
  auto in = cluster_input(cluster_of({"i-lb1", "i-lb2"}));
  in.hooks.begin()->second.recorded = true;
  in.desired.front().drain_timeout = 100s;
  in.poll_interval = 5s;
  in.now = T0 + 109s;
  EXPECT_EQ(count_kind(plan(in), OpKind::CompleteLifecycle), 0u);
  in.now = T0 + 110s;
  EXPECT_EQ(count_kind(plan(in), OpKind::CompleteLifecycle), 1u);
}

TEST(PlannerCluster, AnUnreadableViewCompletesNothingBeforeTheDrainTimeout) {
  auto c = cluster_of({"i-lb1", "i-lb2"}, {{"i-b", {"i-lb2"}}});
  c.complete = false;
  auto in = cluster_input(c);
  in.now = T0 + 29s;
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::CompleteLifecycle), 0u);
  in.now = T0 + 30s;
  EXPECT_EQ(count_kind(plan(in), OpKind::CompleteLifecycle), 1u);
}

TEST(PlannerCluster, OurOwnRecordSeenOnTheInstanceIsNotWrittenAgain) {
  // The applier's mark was lost (a restart without a state file): the record on the instance says it.
  auto in = cluster_input(cluster_of({"i-lb1", "i-lb2"}, {{"i-b", {"i-lb1"}}}));
  in.now = T0 + 1s;
  Plan p = plan(in);
  EXPECT_EQ(count_kind(p, OpKind::RecordDrained), 0u);
  EXPECT_TRUE(p.hooks.at("web-asg/drain-hook/i-b").recorded);
}

TEST(PlannerCluster, AClusterOfOnePlansExactlyAsWithoutCluster) {
  for (std::set<std::string> nodes : {std::set<std::string>{"i-lb1"}, std::set<std::string>{}}) {
    auto with = cluster_input(cluster_of(nodes));
    auto without = cluster_input(ClusterView{});
    with.now = without.now = T0 + 1s;
    EXPECT_EQ(plan(with), plan(without));
    // And while draining, with heartbeats.
    for (auto* in : {&with, &without}) {
      in->actual = {ab("web", {as("i-a", "127.0.0.2"), as("i-b", "127.0.0.3", 80, AdminState::Drain, 3)})};
      in->drains = {{"web/i-b", {T0}}};
      in->now = T0 + 25s;
    }
    EXPECT_EQ(plan(with), plan(without));
  }
}

}  // namespace
}  // namespace hasg::core
