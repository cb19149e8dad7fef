// The rendered file on disk: atomic replacement that keeps the file's mode, and `haproxy -c` with Debian's HAProxy
// quoting what it found wrong. Every config here binds 127.0.0.1 only.
#include "haproxy/config_file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "haproxy/renderer.h"
#include "support/process.h"

namespace hasg::haproxy {
namespace {

namespace fs = std::filesystem;

const char* kHaproxy = "/usr/sbin/haproxy";

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(WriteFileAtomic, CreatesWithMode0644) {
  test::TempDir dir;
  std::string path = dir.file("haproxy.cfg");
  ASSERT_TRUE(write_file_atomic(path, "global\n").ok());
  EXPECT_EQ(test::read_file(path), "global\n");
  EXPECT_EQ(mode_of(path), 0644u);
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"haproxy.cfg"});
}

TEST(WriteFileAtomic, ReplacesContentKeepsModeLeavesNoTempFile) {
  test::TempDir dir;
  std::string path = dir.file("haproxy.cfg");
  test::write_file(path, "old content that is longer than the new one\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);

  auto st = write_file_atomic(path, "new\n");
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(test::read_file(path), "new\n");
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"haproxy.cfg"});
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);  // replaced by rename, not rewritten in place

  ASSERT_TRUE(write_file_atomic(path, "").ok());
  EXPECT_EQ(test::read_file(path), "");
}

TEST(WriteFileAtomic, FollowsASymlink) {
  test::TempDir dir;
  fs::create_directory(dir.file("real"));
  test::write_file(dir.file("real/haproxy.cfg"), "old\n");
  fs::create_symlink("real/haproxy.cfg", dir.file("haproxy.cfg"));
  ASSERT_TRUE(write_file_atomic(dir.file("haproxy.cfg"), "new\n").ok());
  EXPECT_TRUE(fs::is_symlink(dir.file("haproxy.cfg")));
  EXPECT_EQ(test::read_file(dir.file("real/haproxy.cfg")), "new\n");
  EXPECT_EQ(entries(dir.file("real")), std::vector<std::string>{"haproxy.cfg"});
}

TEST(WriteFileAtomic, MissingDirectoryIsAnError) {
  test::TempDir dir;
  auto st = write_file_atomic(dir.file("no/such/dir/haproxy.cfg"), "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "IOError");
  EXPECT_NE(st.error().message.find(dir.file("no/such/dir/haproxy.cfg")), std::string::npos);
}

TEST(ReadTextFile, ContentAndNotFound) {
  test::TempDir dir;
  test::write_file(dir.file("a"), std::string("x\0y\n", 4));
  auto r = read_text_file(dir.file("a"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::string("x\0y\n", 4));
  auto missing = read_text_file(dir.file("b"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "NotFound");
  EXPECT_NE(missing.error().message.find(dir.file("b")), std::string::npos);
}

const char* kValid = R"(global
    maxconn 100
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind 127.0.0.1:18080
    default_backend app
backend app
    server s1 127.0.0.1:18081
)";

TEST(ValidateConfig, ValidConfigPasses) {
  test::TempDir dir;
  test::write_file(dir.file("haproxy.cfg"), kValid);
  auto st = validate_config(kHaproxy, dir.file("haproxy.cfg"));
  EXPECT_TRUE(st.ok()) << st.error().to_string();
}

// What the renderer writes is what HAProxy accepts: IPv4 and IPv6 servers, with and without options.
TEST(ValidateConfig, RenderedConfigPasses) {
  test::TempDir dir;
  auto rendered = render(kValid, "haproxy.cfg.template",
                         {ManagedBackend{"app", "g", 18082, "check inter 2s weight 10",
                                         {{"i-0b", "127.0.0.3", 0}, {"i-0a", "127.0.0.2", 0}, {"i-0c", "::1", 0}}}});
  ASSERT_TRUE(rendered.ok()) << rendered.error().to_string();
  write_file_atomic(dir.file("haproxy.cfg"), *rendered).value();
  auto st = validate_config(kHaproxy, dir.file("haproxy.cfg"));
  EXPECT_TRUE(st.ok()) << st.error().to_string() << "\n" << *rendered;
}

// cluster.peers with a stick table naming the section: HAProxy accepts the render whether this node is among its
// peers (the section shared) or not yet (written `disabled`, which leaves the section out without a warning).
TEST(ValidateConfig, RenderedPeersPassWithAndWithoutThisNode) {
  const char* tmpl = R"(global
    log stderr local0

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

peers lb

frontend web
    bind 127.0.0.1:18083
    default_backend app

backend app
    stick-table type string len 32 size 1k store gpc0 peers lb
)";
  const ManagedBackend app{"app", "g", 18082, "", {{"i-0a", "127.0.0.2", 0}}};
  struct Case {
    const char* name;
    std::vector<core::DesiredServer> nodes;
    bool disabled;
  };
  for (const Case& c : {Case{"this node among its peers", {{"i-0node1", "127.0.0.1", 0}, {"i-0node2", "127.0.0.3", 0}}, false},
                        Case{"this node's address not known", {{"i-0node2", "127.0.0.3", 0}}, true}}) {
    test::TempDir dir;
    const ManagedPeers peers{"lb", "lbs", 18084, "i-0node1", c.nodes};
    auto rendered = render(tmpl, "haproxy.cfg.template", {app}, &peers);
    ASSERT_TRUE(rendered.ok()) << c.name << ": " << rendered.error().to_string();
    EXPECT_EQ(rendered->find("\n    disabled\n") != std::string::npos, c.disabled) << c.name << "\n" << *rendered;
    write_file_atomic(dir.file("haproxy.cfg"), *rendered).value();
    auto st = validate_config(kHaproxy, dir.file("haproxy.cfg"));
    EXPECT_TRUE(st.ok()) << c.name << ": " << st.error().to_string() << "\n" << *rendered;
    auto check = test::run_command({kHaproxy, "-c", "-f", dir.file("haproxy.cfg")});
    EXPECT_EQ(check.out.find("Removing incomplete section"), std::string::npos) << c.name << ": " << check.out;
    EXPECT_EQ(check.err.find("Removing incomplete section"), std::string::npos) << c.name << ": " << check.err;
  }
}

TEST(ValidateConfig, BadPortQuotesHaproxy) {
  test::TempDir dir;
  std::string path = dir.file("haproxy.cfg");
  test::write_file(path, "backend x\n  server s 127.0.0.1:abc\n");
  auto st = validate_config(kHaproxy, path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidConfig");
  const std::string& m = st.error().message;
  EXPECT_EQ(m.rfind(path + ": rejected by /usr/sbin/haproxy -c (exit status 1)", 0), 0u) << m;
  EXPECT_NE(m.find("[ALERT] config : [" + path + ":2] : 'server x/s' : invalid character 'a' in port number"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("NOTICE"), std::string::npos) << m;
  EXPECT_EQ(m.find("(exit status 1)\n"), m.find("(exit status 1)"));
}

TEST(ValidateConfig, UnknownKeyword) {
  test::TempDir dir;
  std::string path = dir.file("haproxy.cfg");
  test::write_file(path, std::string(kValid) + "    frobnicate yes\n");
  auto st = validate_config(kHaproxy, path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidConfig");
  EXPECT_NE(st.error().message.find("unknown keyword 'frobnicate'"), std::string::npos) << st.error().message;
}

TEST(ValidateConfig, MissingFileAndMissingBinary) {
  test::TempDir dir;
  auto st = validate_config(kHaproxy, dir.file("none.cfg"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidConfig");
  EXPECT_NE(st.error().message.find("Cannot open configuration file"), std::string::npos) << st.error().message;

  test::write_file(dir.file("haproxy.cfg"), kValid);
  auto nobin = validate_config(dir.file("no-haproxy"), dir.file("haproxy.cfg"));
  ASSERT_FALSE(nobin.ok());
  EXPECT_EQ(nobin.error().code, "ValidatorError");
  EXPECT_NE(nobin.error().message.find("cannot run " + dir.file("no-haproxy")), std::string::npos)
      << nobin.error().message;

  // A bare name is looked up in PATH.
  auto bare = validate_config("haproxy", dir.file("haproxy.cfg"));
  EXPECT_TRUE(bare.ok() || bare.error().code == "ValidatorError") << bare.error().to_string();
}

TEST(ValidateConfig, HangingValidatorIsKilled) {
  test::TempDir dir;
  std::string fake = dir.file("fake-haproxy");
  test::write_file(fake, "#!/bin/sh\nexec sleep 30\n");
  ASSERT_EQ(::chmod(fake.c_str(), 0755), 0);
  auto t0 = std::chrono::steady_clock::now();
  auto st = validate_config(fake, dir.file("haproxy.cfg"), std::chrono::milliseconds(200));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "ValidatorError");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(ValidateConfig, OutputWithoutAlertsIsQuotedAndCapped) {
  test::TempDir dir;
  std::string fake = dir.file("fake-haproxy");
  test::write_file(fake, "#!/bin/sh\nfor i in $(seq 1 30); do echo \"line $i\"; done\nexit 3\n");
  ASSERT_EQ(::chmod(fake.c_str(), 0755), 0);
  auto st = validate_config(fake, dir.file("haproxy.cfg"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidConfig");
  const std::string& m = st.error().message;
  EXPECT_NE(m.find("(exit status 3)\nline 1\nline 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("line 20\n(10 more lines)"), std::string::npos) << m;
  EXPECT_EQ(m.find("line 21"), std::string::npos) << m;
}

}  // namespace
}  // namespace hasg::haproxy
