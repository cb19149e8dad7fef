// The value types' small helpers.
#include "core/types.h"

#include <gtest/gtest.h>

#include <string>

namespace hasg::core {
namespace {

TEST(Types, OpKindNames) {
  EXPECT_EQ(std::string(to_string(OpKind::Add)), "add");
  EXPECT_EQ(std::string(to_string(OpKind::Enable)), "enable");
  EXPECT_EQ(std::string(to_string(OpKind::SetAddress)), "set-address");
  EXPECT_EQ(std::string(to_string(OpKind::Drain)), "drain");
  EXPECT_EQ(std::string(to_string(OpKind::Remove)), "remove");
}

TEST(Types, AdminStateNames) {
  EXPECT_EQ(std::string(to_string(AdminState::Ready)), "ready");
  EXPECT_EQ(std::string(to_string(AdminState::Drain)), "drain");
  EXPECT_EQ(std::string(to_string(AdminState::Maint)), "maint");
}

TEST(Types, PlanEmptyMeansNoOpsAndNoReload) {
  Plan p;
  EXPECT_TRUE(p.empty());
  p.warnings.push_back("held");
  p.drains["web/i-a"] = DrainRecord{};
  EXPECT_TRUE(p.empty());  // warnings and drains alone change nothing in HAProxy
  p.reload_needed = true;
  EXPECT_FALSE(p.empty());
  p.reload_needed = false;
  Op op{};
  op.kind = OpKind::Add;
  p.ops.push_back(op);
  EXPECT_FALSE(p.empty());
}

TEST(Types, ValuesCompareWhole) {
  DesiredBackend a;
  a.backend = "web";
  DesiredBackend b = a;
  EXPECT_EQ(a, b);
  b.discovery_complete = false;
  EXPECT_NE(a, b);
  ActualServer s;
  ActualServer t = s;
  t.current_sessions = 1;
  EXPECT_NE(s, t);
}

// Drain, hook and health deadlines are counted in core::Clock: from its anchor on it moves with the steady clock
// only, so a step of the system clock (the one thing a test cannot make without changing the machine's time) moves
// nothing. What the clock reads after a jump is anchored_now's answer, whatever the wall clock says.
TEST(Types, TheDeadlineClockFollowsTheSteadyClockNotTheWallClock) {
  using namespace std::chrono;
  const TimePoint wall = sys_days{2026y / December / 1} + 18h;
  const steady_clock::time_point steady{seconds(1000)};
  EXPECT_EQ(anchored_now(wall, steady, steady + 30s), wall + 30s);
  EXPECT_EQ(anchored_now(wall, steady, steady), wall);
  // A drain started at the anchor with a 30 s timeout: 29 s of steady time later it has not timed out, whether the
  // wall clock has meanwhile jumped an hour ahead or back (nothing here reads it).
  EXPECT_LT(anchored_now(wall, steady, steady + 29s) - wall, seconds(30));

  // The real clock: starts at the wall time (within the test's own run) and never goes back.
  const auto before = system_clock::now();
  TimePoint last = Clock::now();
  EXPECT_LT(abs(duration_cast<milliseconds>(last - before)), 2s) << "anchored on the wall clock";
  for (int i = 0; i < 100000; ++i) {
    TimePoint t = Clock::now();
    ASSERT_GE(t, last);
    last = t;
  }
}

}  // namespace
}  // namespace hasg::core
