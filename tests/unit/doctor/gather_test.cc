// The parsers behind doctor's gatherers, and the gatherers over a fake Host.
#include "doctor/gather.h"

#include <gtest/gtest.h>

#include <map>

#include "doctor/report.h"

namespace hasg::doctor {
namespace {

class FakeHost : public Host {
 public:
  std::map<std::string, std::string> files;
  std::map<std::string, ProgramResult> programs;  // by argv joined with ' '
  Result<std::string> read_file(const std::string& path) const override {
    auto it = files.find(path);
    if (it == files.end()) return make_error("NotFound", path + ": missing");
    return it->second;
  }
  Result<ProgramResult> run(const std::vector<std::string>& argv) const override {
    std::string key;
    for (const auto& a : argv) key += (key.empty() ? "" : " ") + a;
    auto it = programs.find(key);
    if (it == programs.end()) return make_error("SpawnError", "cannot run " + argv[0]);
    return it->second;
  }
};

// Captured on Debian 12 (haproxy 2.6.12 master, started by hand with ulimit -n 20000).
const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            20000                20000                files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

TEST(DoctorParsers, ProcLimits) {
  EXPECT_EQ(parse_hard_nofile(kLimits), 20000);
  EXPECT_EQ(parse_hard_nofile("Max open files            1024                 unlimited            files\n"),
            std::nullopt);
  EXPECT_EQ(parse_hard_nofile("nothing"), std::nullopt);
}

TEST(DoctorParsers, PortRangeAndUnitLimit) {
  EXPECT_EQ(parse_port_range("32768\t60999\n"), (std::pair{32768L, 60999L}));
  EXPECT_EQ(parse_port_range("60999 32768"), std::nullopt);
  EXPECT_EQ(parse_unit_limit("LimitNOFILE=524288\nLoadState=loaded\n", 1), 524288);
  EXPECT_EQ(parse_unit_limit("LimitNOFILE=infinity\nLoadState=loaded\n", 1048576), 1048576);
  EXPECT_EQ(parse_unit_limit("LimitNOFILE=524288\nLoadState=not-found\n", 1), std::nullopt);
}

TEST(DoctorParsers, ShowInfo) {
  const std::string info = "Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nMaxconn: 5000\nHard_maxconn: 5000\n"
                           "Ulimit-n: 10041\nMaxsock: 10041\n";
  EXPECT_EQ(info_field(info, "Maxconn"), "5000");
  EXPECT_EQ(info_field(info, "Ulimit-n"), "10041");
  EXPECT_EQ(info_field(info, "Version"), "2.6.12-1+deb12u4");
  EXPECT_EQ(info_field(info, "Missing"), "");
}

TEST(DoctorGather, FdLimitsFromProcAndSystemd) {
  FakeHost host;
  host.files["/proc/sys/fs/nr_open"] = "1048576\n";
  host.files["/proc/sys/fs/file-max"] = "2470878\n";
  host.files["/proc/42/limits"] = kLimits;
  host.programs["systemctl show haproxy.service -p LoadState -p LimitNOFILE"] =
      ProgramResult{true, 0, "LimitNOFILE=524288\nLoadState=loaded\n"};
  auto l = gather_fd_limits(host, "haproxy.service", 42);
  EXPECT_EQ(l.nr_open, 1048576);
  EXPECT_EQ(l.file_max, 2470878);
  EXPECT_EQ(l.unit_limit, 524288);
  EXPECT_EQ(l.process_limit, 20000);
  // No systemd, HAProxy not running: only the sysctls.
  FakeHost bare;
  bare.files["/proc/sys/fs/nr_open"] = "1048576\n";
  auto b = gather_fd_limits(bare, "haproxy.service", 0);
  EXPECT_EQ(b.unit_limit, std::nullopt);
  EXPECT_EQ(b.process_limit, std::nullopt);
}

TEST(DoctorGather, Binary) {
  FakeHost host;
  host.programs["/usr/sbin/haproxy -v"] = ProgramResult{
      true, 0, "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term supported\n"};
  auto b = gather_binary(host, "/usr/sbin/haproxy");
  EXPECT_EQ(b.version, "2.6.12-1+deb12u4");
  EXPECT_FALSE(b.error);
  auto missing = gather_binary(host, "/opt/haproxy");
  ASSERT_TRUE(missing.error);
  EXPECT_EQ(missing.error->code, "SpawnError");
  host.programs["/bin/true -v"] = ProgramResult{true, 0, "something else\n"};
  EXPECT_TRUE(gather_binary(host, "/bin/true").error);
}

TEST(DoctorGather, ProxySettingsFromTheConfiguration) {
  const std::string text =
      "global\n  maxconn 20000\n\n"
      "defaults\n  mode http\n  maxconn 3000\n  balance source\n\n"
      "frontend fe\n  bind 127.0.0.1:80\n  bind 127.0.0.1:81 backlog 100\n  default_backend app\n\n"
      "frontend big\n  maxconn 9000\n  backlog 7000\n  bind 127.0.0.1:82\n\n"
      "backend app\n  balance roundrobin  # comment\n\n"
      "backend sticky\n  hash-type consistent\n";
  auto sections = haproxy::parse_sections(text, "h.cfg");
  ASSERT_TRUE(sections.ok());
  auto p = proxy_config_from(*sections);
  EXPECT_EQ(p.global_maxconn, 20000);
  ASSERT_EQ(p.listeners.size(), 3u);
  EXPECT_EQ(p.listeners[0], (ProxyConfig::Listener{"fe", 3000, "maxconn"}));
  EXPECT_EQ(p.listeners[1], (ProxyConfig::Listener{"fe", 100, "bind backlog"}));
  EXPECT_EQ(p.listeners[2], (ProxyConfig::Listener{"big", 7000, "backlog"}));
  ASSERT_EQ(p.backends.size(), 2u);
  EXPECT_EQ(p.backends[0], (ProxyConfig::Backend{"app", "roundrobin", "map-based"}));
  EXPECT_EQ(p.backends[1], (ProxyConfig::Backend{"sticky", "source", "consistent"}));
}

TEST(DoctorReport, ExitCodeAndFormats) {
  std::vector<CheckResult> r = {pass("a", "fine"), warn("b", "meh", "do x"), skip("c", "n/a")};
  EXPECT_EQ(exit_code(r), 0);
  auto text = format_text(r);
  EXPECT_NE(text.find("WARN  b  meh\n      fix: do x\n"), std::string::npos) << text;
  EXPECT_NE(text.find("1 passed, 1 warning, 0 failed, 1 skipped"), std::string::npos) << text;
  r.push_back(fail("d", "broken", "fix it"));
  EXPECT_EQ(exit_code(r), 1);
  auto j = to_json(r);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[3]["status"], "FAIL");
  EXPECT_EQ(j[3]["fix"], "fix it");
}

}  // namespace
}  // namespace hasg::doctor
