// TLS termination with certificates rotated without a reload, as issue 11 asks: under wrk over HTTPS (keep-alive
// and a new connection per request), a certificate file replaced by rename is what new handshakes get, with no
// failed request and no reload (the master's "show proc"); a broken file keeps the old certificate and the log
// says why; a line added to a crt-list goes in at runtime; a line removed falls back to a validated reload.
// Certificates are made with openssl at test time. Loopback only.
#include <unistd.h>

#include <cstdio>
#include <regex>

#include "sync_rig.h"

namespace hasg::test {
namespace {

class TlsRotation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available() || access("/usr/bin/openssl", X_OK) != 0 || access("/usr/bin/wrk", X_OK) != 0)
      GTEST_SKIP() << "needs /usr/sbin/haproxy, /usr/bin/openssl and /usr/bin/wrk";
    // The daemon on port 0 (its start line says which it got); HTTPS on the rig's own address, where no other test
    // can take the port.
    rig_ = std::make_unique<SyncRig>(95, 2, "listen: 127.0.0.1:0\n");
    https_host_ = rig_->own_host();
    https_port_ = free_port();
    certs_ = rig_->dir().file("certs");
    ASSERT_EQ(mkdir(certs_.c_str(), 0700), 0);
    for (const char* cn : {"one", "two", "three", "l1", "l2"}) ASSERT_TRUE(make_cert(cn));
    install("one", "site.pem");
    install("l1", "l1.pem");
    write_file(certs_ + "/list.txt", "l1.pem [alpn h2,http/1.1] l1.test\n");
    // The rig's template plus an HTTPS frontend: a certificate by file and a crt-list, relative to crt-base.
    write_file(rig_->dir().file("haproxy.cfg.template"),
               rig_->template_text() +
                   "\nglobal\n"
                   "    crt-base " + certs_ + "\n"
                   "\nfrontend https\n"
                   "    bind " + https_host_ + ":" + std::to_string(https_port_) +
                   " ssl crt site.pem crt-list " + certs_ + "/list.txt alpn h2,http/1.1\n"
                   "    default_backend app\n");
    auto once = rig_->cli({"once"});
    ASSERT_EQ(once.exit_code, 0) << once.err;
    ASSERT_TRUE(rig_->start_haproxy()) << read_file(rig_->dir().file("haproxy.log"));
    daemon_ = std::make_unique<Process>(
        std::vector<std::string>{binary_path("haproxy-asg"), "run", "--config", rig_->dir().file("haproxy-asg.yaml")},
        sim_env(rig_->sim()), log_path());
    ASSERT_TRUE(wait_until([&] { return (listen_port_ = daemon_port_from_log(log())) != 0; })) << log();
    // The watch has looked once HAProxy's certificates have an expiry on /metrics.
    ASSERT_TRUE(wait_until([&] { return metric(expiry("site.pem")) > 0; }, std::chrono::seconds(15))) << log();
    ASSERT_TRUE(wait_until([&] { return rig_->ready_servers().size() == 2; })) << log();
  }

  // NAME.crt and NAME.key in the rig's directory: a self-signed certificate for NAME.test.
  bool make_cert(const std::string& name) {
    auto r = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
                          "/CN=" + name + ".test", "-keyout", rig_->dir().file(name + ".key"), "-out",
                          rig_->dir().file(name + ".crt")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0;
  }
  // Replaces certs/FILE as editors and certbot do: a new file renamed over the old one.
  void replace(const std::string& file, const std::string& content) {
    const std::string tmp = certs_ + "/." + file + ".tmp";
    write_file(tmp, content);
    ASSERT_EQ(std::rename(tmp.c_str(), (certs_ + "/" + file).c_str()), 0);
  }
  void install(const std::string& name, const std::string& file) {
    replace(file, read_file(rig_->dir().file(name + ".crt")) + read_file(rig_->dir().file(name + ".key")));
  }

  // The subject new handshakes get (with SNI `sni`).
  std::string served(const std::string& sni = "") {
    std::vector<std::string> argv{"/usr/bin/openssl", "s_client", "-connect", https_host_ + ":" + std::to_string(https_port_)};
    if (!sni.empty()) argv.insert(argv.end(), {"-servername", sni});
    auto r = run_command(argv, {}, std::chrono::seconds(10));
    auto at = r.out.find("subject=CN = ");
    return at == std::string::npos ? "" : r.out.substr(at + 13, r.out.find('\n', at) - at - 13);
  }

  std::string expiry(const std::string& file) const {
    return "haproxy_asg_certificate_expiry_days{file=\"" + certs_ + "/" + file + "\"}";
  }
  std::string rotations(const std::string& file, const std::string& outcome) const {
    return "haproxy_asg_certificate_rotations_total{file=\"" + certs_ + "/" + file + "\",outcome=\"" + outcome + "\"}";
  }
  double metric(const std::string& series) const {
    auto r = run_command({"/usr/bin/curl", "-s", "--max-time", "3",
                          "http://127.0.0.1:" + std::to_string(listen_port_) + "/metrics"});
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line))
      if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
    return -1;
  }

  std::unique_ptr<Process> wrk(const std::string& out, bool new_connections) {
    std::vector<std::string> argv{"/usr/bin/wrk", "-t1", new_connections ? "-c2" : "-c4", "-d8s"};
    if (new_connections) argv.insert(argv.end(), {"-H", "Connection: close"});
    argv.push_back("https://" + https_host_ + ":" + std::to_string(https_port_) + "/");
    return std::make_unique<Process>(argv, EnvOverrides{}, rig_->dir().file(out));
  }
  // wrk's requests, and what counts as failed: socket errors and non-2xx/3xx answers.
  std::pair<long, long> wrk_result(const std::string& out) {
    std::string text = read_file(rig_->dir().file(out));
    std::smatch m;
    long requests = std::regex_search(text, m, std::regex(R"((\d+) requests in)")) ? std::stol(m[1]) : -1;
    long failed = 0;
    if (std::regex_search(text, m, std::regex(R"(Non-2xx or 3xx responses: (\d+))"))) failed += std::stol(m[1]);
    if (std::regex_search(text, m, std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))")))
      for (int i = 1; i <= 4; ++i) failed += std::stol(m[i]);
    return {requests, failed};
  }

  std::string log_path() const { return rig_->dir().file("daemon.log"); }
  std::string log() const { return read_file(log_path()); }

  int listen_port_ = 0;
  std::string https_host_;
  int https_port_ = 0;
  std::string certs_;
  std::unique_ptr<SyncRig> rig_;
  std::unique_ptr<Process> daemon_;
};

TEST_F(TlsRotation, ReplacedFileIsServedUnderLoadWithoutAReloadAndABrokenOneIsRefused) {
  EXPECT_EQ(served(), "one.test");
  EXPECT_EQ(served("l1.test"), "l1.test");
  auto keep_alive = wrk("wrk-keepalive.txt", false);
  auto fresh = wrk("wrk-close.txt", true);
  ASSERT_TRUE(wait_until([&] { return !read_file(rig_->dir().file("wrk-keepalive.txt")).empty(); }));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // load running before the change

  // A replaced file: new handshakes get the new certificate.
  install("two", "site.pem");
  ASSERT_TRUE(wait_until([&] { return served() == "two.test"; }, std::chrono::seconds(5))) << log();
  EXPECT_EQ(metric(rotations("site.pem", "ok")), 1) << log();

  // A broken file (two's certificate with one's key): refused, said once, the old certificate keeps serving.
  replace("site.pem", read_file(rig_->dir().file("three.crt")) + read_file(rig_->dir().file("one.key")));
  ASSERT_TRUE(wait_until([&] { return metric(rotations("site.pem", "refused")) == 1; }, std::chrono::seconds(5)))
      << log();
  EXPECT_NE(log().find("certificate " + certs_ + "/site.pem refused, HAProxy keeps serving the one it has: the "
                       "private key does not match the certificate's public key"),
            std::string::npos)
      << log();
  EXPECT_EQ(served(), "two.test");

  // A line added to the crt-list: its certificate goes in at runtime, for its SNI.
  install("l2", "l2.pem");
  replace("list.txt", "l1.pem [alpn h2,http/1.1] l1.test\nl2.pem [alpn h2,http/1.1] l2.test\n");
  ASSERT_TRUE(wait_until([&] { return served("l2.test") == "l2.test"; }, std::chrono::seconds(5))) << log();
  EXPECT_EQ(metric(rotations("l2.pem", "ok")), 1) << log();
  EXPECT_EQ(served("l1.test"), "l1.test");

  EXPECT_EQ(keep_alive->wait(std::chrono::seconds(20)), 0);
  EXPECT_EQ(fresh->wait(std::chrono::seconds(20)), 0);
  for (const char* out : {"wrk-keepalive.txt", "wrk-close.txt"}) {
    auto [requests, failed] = wrk_result(out);
    std::cout << out << ": " << requests << " requests, " << failed << " failed\n";
    EXPECT_GT(requests, 0) << read_file(rig_->dir().file(out));
    EXPECT_EQ(failed, 0) << read_file(rig_->dir().file(out));
  }
  // Refused once: the periodic looks did not count the same bytes again.
  EXPECT_EQ(metric(rotations("site.pem", "refused")), 1);
  EXPECT_EQ(rig_->reloads(), 0);
}

// certbot's layout: live/NAME.pem is a symlink into archive/, and a renewal writes new archive files, then swaps the
// link (a new link renamed over the old one). Both directories are watched.
TEST_F(TlsRotation, SymlinkSwappedAsCertbotDoesIsFollowed) {
  const std::string archive = rig_->dir().file("archive");
  ASSERT_EQ(mkdir(archive.c_str(), 0700), 0);
  auto link_to = [&](const std::string& target) {
    const std::string tmp = certs_ + "/.site.pem.link";
    ASSERT_EQ(symlink(target.c_str(), tmp.c_str()), 0);
    ASSERT_EQ(std::rename(tmp.c_str(), (certs_ + "/site.pem").c_str()), 0);
  };
  write_file(archive + "/site1.pem", read_file(rig_->dir().file("two.crt")) + read_file(rig_->dir().file("two.key")));
  link_to("../archive/site1.pem");  // relative, as certbot writes them
  ASSERT_TRUE(wait_until([&] { return served() == "two.test"; }, std::chrono::seconds(5))) << log();
  write_file(archive + "/site2.pem",
             read_file(rig_->dir().file("three.crt")) + read_file(rig_->dir().file("three.key")));
  link_to(archive + "/site2.pem");
  ASSERT_TRUE(wait_until([&] { return served() == "three.test"; }, std::chrono::seconds(5))) << log();
  // The target rewritten in place (its directory is watched too, not only the link's).
  const std::string tmp = archive + "/.site2.tmp";
  write_file(tmp, read_file(rig_->dir().file("one.crt")) + read_file(rig_->dir().file("one.key")));
  ASSERT_EQ(std::rename(tmp.c_str(), (archive + "/site2.pem").c_str()), 0);
  // Within 3 s: well under the watch's 10 s periodic look, so it is the target directory's inotify event that did it.
  ASSERT_TRUE(wait_until([&] { return served() == "one.test"; }, std::chrono::seconds(3))) << log();
  EXPECT_EQ(rig_->reloads(), 0);
}

TEST_F(TlsRotation, LineRemovedFromACrtListFallsBackToAValidatedReload) {
  install("l2", "l2.pem");
  replace("list.txt", "l1.pem l1.test\nl2.pem l2.test\n");
  ASSERT_TRUE(wait_until([&] { return served("l2.test") == "l2.test"; }, std::chrono::seconds(5))) << log();
  ASSERT_EQ(rig_->reloads(), 0);
  // The runtime API has no exact "remove this line": the daemon's reload path (haproxy -c, then the master CLI).
  replace("list.txt", "l1.pem l1.test\n");
  ASSERT_TRUE(wait_until([&] { return rig_->reloads() == 1; }, std::chrono::seconds(10))) << log();
  EXPECT_NE(log().find("no longer lists " + certs_ + "/l2.pem"), std::string::npos) << log();
  EXPECT_TRUE(wait_until([&] { return served("l2.test") == "one.test"; }));  // the default certificate now
  EXPECT_EQ(metric(rotations("list.txt", "reload")), 1);
  // After the reload HAProxy matches the disk: no further reload is asked for.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(rig_->reloads(), 1);
  // The same line added and removed again: added at runtime, and the removal asks for a reload again.
  replace("list.txt", "l1.pem l1.test\nl2.pem l2.test\n");
  ASSERT_TRUE(wait_until([&] { return served("l2.test") == "l2.test"; }, std::chrono::seconds(5))) << log();
  EXPECT_EQ(rig_->reloads(), 1);
  replace("list.txt", "l1.pem l1.test\n");
  ASSERT_TRUE(wait_until([&] { return rig_->reloads() == 2; }, std::chrono::seconds(10))) << log();
}

}  // namespace
}  // namespace hasg::test
