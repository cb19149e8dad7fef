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

}  // namespace
}  // namespace hasg::core
