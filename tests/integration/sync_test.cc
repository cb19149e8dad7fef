// Issue 3's contract against a real HAProxy 2.6 and the simulator: membership through the Runtime API with no
// reload, the file always agreeing with the runtime state, reloads only for structural change, idle cycles that
// do nothing, and bad input that keeps the last good configuration and membership running.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "sync_rig.h"

namespace hasg::test {
namespace {

struct FileStamp {
  ino_t inode = 0;
  timespec mtime{};
  bool operator==(const FileStamp& o) const {
    return inode == o.inode && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
  }
};
FileStamp stamp(const std::string& path) {
  struct stat st {};
  stat(path.c_str(), &st);
  return {st.st_ino, st.st_mtim};
}

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }

  // The rig's first start, as ExecStartPre=haproxy-asg once does it.
  void first_start(SyncRig& rig) {
    auto r = rig.cli({"once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(rig.file_server_names(), rig.in_service());
    ASSERT_TRUE(rig.start_haproxy()) << read_file(rig.dir().file("haproxy.log"));
    ASSERT_EQ(rig.ready_servers(), rig.in_service());
    ASSERT_EQ(rig.reloads(), 0);
  }

  void once_ok(SyncRig& rig) {
    auto r = rig.cli({"once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // After every cycle, the file and the runtime state agree.
    ASSERT_EQ(rig.file_server_names(), rig.ready_servers());
  }
};

TEST_F(SyncTest, OnceWithoutHaproxyOnlyWritesTheConfig) {
  SyncRig rig(21);
  auto r = rig.cli({"once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto servers = rig.file_servers();
  ASSERT_EQ(servers.size(), 3u);
  for (const auto& inst : rig.sim().instances("app"))
    EXPECT_EQ(servers[inst.id], inst.address + ":" + std::to_string(rig.sim().options().instance_port));
  // Every other line of the template is kept as written.
  std::string file = read_file(rig.config_file());
  EXPECT_NE(file.find("# the managed backend: haproxy-asg writes its servers\nbackend app\n"), std::string::npos);
  EXPECT_NE(file.find("check inter 500ms"), std::string::npos);
}

TEST_F(SyncTest, ScaleOutAndInWithoutReloadAndTrafficReachesEveryMember) {
  SyncRig rig(22);
  first_start(rig);
  std::set<std::string> answered;
  for (int i = 0; i < 6; ++i) answered.insert(rig.request());
  EXPECT_EQ(answered, rig.in_service());

  ASSERT_TRUE(rig.sim().set_desired("app", 6).ok());
  once_ok(rig);
  EXPECT_EQ(rig.ready_servers(), rig.in_service());
  EXPECT_EQ(rig.ready_servers().size(), 6u);
  answered.clear();
  ASSERT_TRUE(wait_until([&] {
    answered.insert(rig.request());
    return answered.size() == 6;
  }));
  EXPECT_EQ(answered, rig.in_service());

  // Scale in: drained first (at most half a cycle), removed once drained; never a reload.
  ASSERT_TRUE(rig.sim().set_desired("app", 2).ok());
  for (int cycle = 0; cycle < 6 && rig.haproxy_servers().size() != 2; ++cycle) once_ok(rig);
  EXPECT_EQ(rig.ready_servers(), rig.in_service());
  EXPECT_EQ(rig.haproxy_servers().size(), 2u);
  EXPECT_EQ(rig.reloads(), 0);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(rig.in_service().contains(rig.request()));
}

TEST_F(SyncTest, RemovalIsCappedPerCycleAndDrainsFirst) {
  SyncRig rig(23, 6);
  first_start(rig);
  ASSERT_TRUE(rig.sim().set_desired("app", 0).ok());
  // plan --json prints JSON only, the held-back removals among its warnings.
  auto plan = rig.cli({"plan", "--json"});
  EXPECT_EQ(plan.exit_code, 2) << plan.err;
  auto j = nlohmann::json::parse(plan.out);
  EXPECT_EQ(j["ops"].size(), 3u);
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_NE(j["warnings"][0].get<std::string>().find("held back 3 of 6"), std::string::npos) << j.dump();
  auto r = rig.cli({"once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("held"), std::string::npos) << r.err;
  int draining = 0;
  for (const auto& [name, v] : rig.haproxy_servers()) draining += v.ends_with(" drain") ? 1 : 0;
  EXPECT_EQ(draining, 3);  // half of six, the rest held back for the next cycles
  EXPECT_EQ(rig.ready_servers().size(), 3u);
  EXPECT_EQ(rig.file_server_names(), rig.ready_servers());
}

TEST_F(SyncTest, IdleCycleWritesNothingAndReloadsNothing) {
  SyncRig rig(24);
  first_start(rig);
  auto before = stamp(rig.config_file());
  auto plan = rig.cli({"plan"});
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("nothing to do"), std::string::npos);
  once_ok(rig);
  once_ok(rig);
  EXPECT_EQ(stamp(rig.config_file()), before);
  EXPECT_EQ(rig.reloads(), 0);
}

TEST_F(SyncTest, PlanShowsChangesAndChangesNothing) {
  SyncRig rig(25);
  first_start(rig);
  ASSERT_TRUE(rig.sim().set_desired("app", 4).ok());
  auto before = rig.haproxy_servers();
  auto plan = rig.cli({"plan"});
  EXPECT_EQ(plan.exit_code, 2) << plan.err;
  EXPECT_NE(plan.out.find("add"), std::string::npos) << plan.out;
  EXPECT_EQ(rig.haproxy_servers(), before);
  auto json = rig.cli({"plan", "--json"});
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_NE(json.out.find("\"op\": \"add\""), std::string::npos) << json.out;
}

TEST_F(SyncTest, ReloadKeepsTheMembership) {
  SyncRig rig(26);
  first_start(rig);
  ASSERT_TRUE(rig.sim().set_desired("app", 5).ok());
  once_ok(rig);
  auto before = rig.ready_servers();
  ASSERT_EQ(before.size(), 5u);
  rig.master("reload");
  ASSERT_TRUE(wait_until([&] { return rig.reloads() == 1 && rig.ready_servers().size() == 5; }));
  EXPECT_EQ(rig.ready_servers(), before);
}

TEST_F(SyncTest, StructuralChangeReloadsOnceAndKeepsMembership) {
  SyncRig rig(27);
  first_start(rig);
  ASSERT_TRUE(rig.sim().set_desired("app", 4).ok());
  write_file(rig.dir().file("haproxy.cfg.template"), rig.template_text("    timeout queue 5s\n"));
  auto r = rig.cli({"once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(rig.reloads(), 1);
  ASSERT_TRUE(wait_until([&] { return rig.ready_servers() == rig.in_service(); }));
  EXPECT_EQ(rig.ready_servers().size(), 4u);
  EXPECT_NE(read_file(rig.config_file()).find("timeout queue 5s"), std::string::npos);
  once_ok(rig);  // and the next cycle is idle again
  EXPECT_EQ(rig.reloads(), 1);
}

TEST_F(SyncTest, InvalidTemplateKeepsConfigAndMembership) {
  SyncRig rig(28);
  first_start(rig);
  std::string good = read_file(rig.config_file());
  auto servers = rig.haproxy_servers();
  ASSERT_TRUE(rig.sim().set_desired("app", 5).ok());
  // The managed backend is gone from the template: rendering fails, naming template and backend.
  write_file(rig.dir().file("haproxy.cfg.template"), "global\n    maxconn 100\n");
  auto r = rig.cli({"once"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("haproxy.cfg.template"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("app"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(rig.config_file()), good);
  EXPECT_EQ(rig.haproxy_servers(), servers);
  EXPECT_EQ(rig.reloads(), 0);
}

TEST_F(SyncTest, FailedHaproxyCheckKeepsConfigAndMembership) {
  SyncRig rig(29);
  first_start(rig);
  std::string good = read_file(rig.config_file());
  auto servers = rig.haproxy_servers();
  ASSERT_TRUE(rig.sim().set_desired("app", 5).ok());
  write_file(rig.dir().file("haproxy.cfg.template"), rig.template_text("    option no-such-option\n"));
  auto r = rig.cli({"once"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-c"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no-such-option"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(rig.config_file()), good);
  EXPECT_EQ(rig.haproxy_servers(), servers);
  EXPECT_EQ(rig.reloads(), 0);
  // Fixed template: the next cycle catches up, still without a reload (the structure is what it was).
  write_file(rig.dir().file("haproxy.cfg.template"), rig.template_text());
  once_ok(rig);
  EXPECT_EQ(rig.ready_servers().size(), 5u);
  EXPECT_EQ(rig.reloads(), 0);
}

TEST_F(SyncTest, DiscoveryFailureChangesNothing) {
  SyncRig rig(30);
  first_start(rig);
  auto servers = rig.haproxy_servers();
  std::string good = read_file(rig.config_file());
  ASSERT_TRUE(rig.sim().set_desired("app", 1).ok());
  rig.sim().inject({"*", sim::Fault::Kind::ServerError, -1, 0});
  auto r = rig.cli({"once"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("InternalFailure"), std::string::npos) << r.err;
  EXPECT_EQ(rig.haproxy_servers(), servers);
  EXPECT_EQ(read_file(rig.config_file()), good);
}

TEST_F(SyncTest, RenderPrintsTheConfigWithoutWriting) {
  SyncRig rig(31);
  auto r = rig.cli({"render"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("backend app"), std::string::npos);
  for (const auto& id : rig.in_service()) EXPECT_NE(r.out.find("server " + id + " "), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(rig.config_file()));
}

TEST_F(SyncTest, StatusShowsTheGroupBesideHaproxy) {
  SyncRig rig(32);
  first_start(rig);
  auto ids = rig.sim().instances("app");
  ASSERT_TRUE(rig.sim().set_lifecycle(ids[0].id, "Standby").ok());
  auto r = rig.cli({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("backend app <- group app"), std::string::npos) << r.out;
  // Standby in the group, still ready in HAProxy until a cycle drains it: both views side by side, marked.
  EXPECT_NE(r.out.find("! " + ids[0].id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Standby"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in rotation in HAProxy while Standby"), std::string::npos) << r.out;
  auto j = nlohmann::json::parse(rig.cli({"status", "--json"}).out);
  ASSERT_EQ(j.size(), 1u);
  ASSERT_EQ(j[0]["servers"].size(), 3u);
  EXPECT_EQ(j[0]["servers"][0]["server"], ids[0].id);
  EXPECT_EQ(j[0]["servers"][0]["group"]["served"], false);
  EXPECT_EQ(j[0]["servers"][0]["haproxy"]["admin"], "ready");
  EXPECT_EQ(j[0]["servers"][1]["haproxy"]["address"],
            ids[1].address + ":" + std::to_string(rig.sim().options().instance_port));
}

TEST_F(SyncTest, UsageAndConfigErrorsExitOne) {
  SyncRig rig(33);
  auto r = run_command({binary_path("haproxy-asg"), "plan"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--config is required"), std::string::npos) << r.err;
  write_file(rig.dir().file("bad.yaml"), "interval: 1s\nhaproxy:\n  template: t\n  config: c\n  runtime_socket: s\n"
                                          "backends:\n  - backend: app\n    group: app\n    prot: 80\n");
  r = run_command({binary_path("haproxy-asg"), "plan", "--config", rig.dir().file("bad.yaml")}, sim_env(rig.sim()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.yaml:9: backends[0].prot: unknown key"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hasg::test
