// RuntimeClient and MasterClient against a real HAProxy 2.6 (Debian's) in master-worker mode. Loopback only.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <iostream>
#include <thread>

#include "haproxy/master_client.h"
#include "haproxy/runtime_client.h"
#include "haproxy/unix_socket.h"
#include "support/haproxy_fixture.h"
#include "support/loopback_listener.h"
#include "util/strings.h"

namespace hasg::haproxy {
namespace {

using core::AdminState;
using core::Op;
using core::OpKind;
using test::HaproxyFixture;

using Listener = test::LoopbackListener;

// Connects to 127.0.0.1:port and sends an HTTP request; the caller closes the returned fd.
int send_request(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return fd;
  const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
  return fd;
}

// A minimal HTTP server on 127.0.0.1:port (0: any free one): answers every request "200 ok" and closes.
class HttpServer {
 public:
  explicit HttpServer(int port = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ADD_FAILURE() << "bind 127.0.0.1:" << port;
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 64);
    th_ = std::thread([this] {
      while (!stop_) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        timeval tv{1, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string req;
        char buf[4096];
        ssize_t n;
        while (req.find("\r\n\r\n") == std::string::npos && (n = recv(c, buf, sizeof buf, 0)) > 0)
          req.append(buf, static_cast<size_t>(n));
        if (!req.empty()) {
          const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
          (void)!::send(c, resp, sizeof resp - 1, MSG_NOSIGNAL);
        }
        close(c);
      }
    });
  }
  ~HttpServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    th_.join();
    close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread th_;
};

// A GET through HAProxy on 127.0.0.1:port; the response's status code (0 when none).
int http_get(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  std::string resp;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)!send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return resp.starts_with("HTTP/1.1 ") && resp.size() >= 12 ? std::stoi(resp.substr(9, 3)) : 0;
}

class RuntimeHaproxy : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "no /usr/sbin/haproxy";
    dead_port_ = test::free_port();  // nothing listens there
    fe_port_ = test::free_port();
    std::string cfg = HaproxyFixture::preamble() +
                      "  default-server inter 3s weight 7 fall 5 rise 4 maxconn 33\n"
                      "frontend fe\n"
                      "  bind 127.0.0.1:" + std::to_string(fe_port_) + "\n"
                      "  default_backend be\n"
                      "backend be\n"
                      "  server s1 127.0.0.1:" + std::to_string(dead_port_) + "\n"
                      "backend empty\n";
    ASSERT_TRUE(fx_.start(cfg)) << fx_.log();
  }

  const core::ActualServer* find(const std::vector<core::ActualBackend>& bes, const std::string& be,
                                 const std::string& srv) {
    for (const auto& b : bes)
      if (b.backend == be)
        for (const auto& s : b.servers)
          if (s.name == srv) return &s;
    return nullptr;
  }

  Result<std::vector<core::ActualBackend>> servers() {
    UnixSocketTransport t(fx_.admin_socket());
    return RuntimeClient(t).servers({"be"});
  }

  // A column of a server's row in "show stat be 4 -1" ("" when absent).
  std::string stat(const std::string& srv, const std::string& column) {
    auto lines = split(fx_.runtime("show stat be 4 -1"), '\n');
    if (lines.empty() || !lines[0].starts_with("# ")) return "";
    auto header = split(lines[0].substr(2), ',');
    auto col = std::find(header.begin(), header.end(), column) - header.begin();
    for (const auto& l : lines) {
      auto f = split(l, ',');
      if (f.size() > static_cast<size_t>(col) && f.size() > 1 && f[1] == srv) return f[static_cast<size_t>(col)];
    }
    return "";
  }

  HaproxyFixture fx_;
  int dead_port_ = 0;
  int fe_port_ = 0;
};

TEST_F(RuntimeHaproxy, ServersOfKnownAndUnknownBackends) {
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  auto r = c.servers({"be", "empty", "missing"});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0], (core::ActualBackend{"be", true, {{"s1", "127.0.0.1", dead_port_, AdminState::Ready, true, 0, false, false, /*id=*/1}}}));
  EXPECT_EQ((*r)[1], (core::ActualBackend{"empty", true, {}}));
  EXPECT_EQ((*r)[2], (core::ActualBackend{"missing", false, {}}));
}

TEST_F(RuntimeHaproxy, AddWithCheckDrainSetAddressRemove) {
  Listener l;
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  auto r = c.apply({Op{OpKind::Add, "be", "i-1", "127.0.0.1", l.port(), "check inter 1s", "new"}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->applied, 1u);
  EXPECT_EQ(r->commands, 3u);
  bool ready = test::wait_until([&] {
    auto s = servers();
    auto* srv = s.ok() ? find(*s, "be", "i-1") : nullptr;
    return srv && srv->admin == AdminState::Ready && srv->up;
  });
  ASSERT_TRUE(ready) << fx_.runtime("show servers state be");
  // Checks really run ("enable health" was needed): the first one reports L4OK within the 1 s interval.
  EXPECT_TRUE(test::wait_until([&] { return fx_.runtime("show stat -1 4 -1").find("L4OK") != std::string::npos; }))
      << fx_.runtime("show stat -1 4 -1");

  ASSERT_TRUE(c.apply({Op{OpKind::Drain, "be", "i-1", "", 0, "", "leaving"}}).ok());
  auto s = servers();
  ASSERT_TRUE(s.ok());
  ASSERT_NE(find(*s, "be", "i-1"), nullptr);
  EXPECT_EQ(find(*s, "be", "i-1")->admin, AdminState::Drain);

  auto moved = c.apply({Op{OpKind::SetAddress, "be", "i-1", "127.0.0.2", 9999, "", "moved"}});
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
  s = servers();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(find(*s, "be", "i-1")->address, "127.0.0.2");
  EXPECT_EQ(find(*s, "be", "i-1")->port, 9999);
  // Setting the same address again answers "no need to change the addr...": still a success.
  EXPECT_TRUE(c.apply({Op{OpKind::SetAddress, "be", "i-1", "127.0.0.2", 9999, "", ""}}).ok());

  auto rm = c.apply({Op{OpKind::Remove, "be", "i-1", "", 0, "", "gone"}});
  ASSERT_TRUE(rm.ok()) << rm.error().to_string();
  EXPECT_EQ(rm->commands, 3u);
  s = servers();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(find(*s, "be", "i-1"), nullptr);
}

TEST_F(RuntimeHaproxy, FailedCommandIsAnErrorNamingIt) {
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  auto r = c.apply({Op{OpKind::Enable, "be", "nosuch", "", 0, "", ""}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("\"set server be/nosuch state ready\""), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No such server."), std::string::npos) << r.error().message;

  auto bad = c.apply({Op{OpKind::Add, "be", "x", "127.0.0.1", dead_port_, "bogus", ""}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown keyword 'bogus'"), std::string::npos) << bad.error().message;

  auto dup = c.apply({Op{OpKind::Add, "be", "s1", "127.0.0.1", dead_port_, "", ""}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("Already exists a server with the same name"), std::string::npos);

  // An unknown command: the transport still frames its (help text) answer, and the check fails.
  auto raw = t.run({"show nonsense", "show servers state be"});
  ASSERT_TRUE(raw.ok()) << raw.error().to_string();
  ASSERT_EQ(raw->size(), 2u);
  EXPECT_NE((*raw)[0].find("Unknown command"), std::string::npos);
  EXPECT_EQ((*raw)[1].substr(0, 2), "1\n");
}

// A missing socket is HAProxy not running (once then only writes the file); any other failure is an error.
TEST_F(RuntimeHaproxy, MissingSocketMeansHaproxyIsNotRunning) {
  UnixSocketTransport t(fx_.dir() + "/nope.sock", std::chrono::milliseconds(500));
  auto r = RuntimeClient(t).servers({"be"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "HaproxyNotRunning");
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("nope.sock"), std::string::npos);
}

// Facts the design relies on, checked on this HAProxy.
TEST_F(RuntimeHaproxy, DynamicServersIgnoreDefaultServerAndStaticOnesCanBeDeleted) {
  // default-server says weight 7, maxconn 33; a dynamic server gets weight 1 and no maxconn (2.6.12).
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  ASSERT_TRUE(c.apply({Op{OpKind::Add, "be", "dyn", "127.0.0.1", dead_port_, "", ""}}).ok());
  std::string state = fx_.runtime("show servers state be");
  EXPECT_NE(state.find(" s1 127.0.0.1 2 0 7 7 "), std::string::npos) << state;   // static: weight 7
  EXPECT_NE(state.find(" dyn 127.0.0.1 2 0 1 1 "), std::string::npos) << state;  // dynamic: weight 1
  // Explicit options are taken: weight 20.
  ASSERT_TRUE(c.apply({Op{OpKind::Add, "be", "dyn2", "127.0.0.1", dead_port_, "weight 20 maxconn 50", ""}}).ok());
  state = fx_.runtime("show servers state be");
  EXPECT_NE(state.find(" dyn2 127.0.0.1 2 0 20 20 "), std::string::npos) << state;

  // A server declared in the file (static) is deleted like a dynamic one once in maintenance.
  EXPECT_EQ(fx_.runtime("del server be/s1"), "Only servers in maintenance mode can be deleted.\n");
  auto rm = c.apply({Op{OpKind::Remove, "be", "s1", "", 0, "", ""}});
  ASSERT_TRUE(rm.ok()) << rm.error().to_string();
  auto s = servers();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(find(*s, "be", "s1"), nullptr);
}

// A request in flight shows in scur; Remove cuts it. On 2.6.12 the "del server" pipelined right after "shutdown
// sessions" is often refused ("Server still has connections attached to it, cannot remove it.") because the
// sessions die asynchronously: apply() retries the del, so the op still succeeds.
TEST_F(RuntimeHaproxy, RemoveCutsSessionsInFlight) {
  Listener hold(/*hold=*/true);
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  ASSERT_TRUE(c.apply({Op{OpKind::Remove, "be", "s1", "", 0, "", ""},
                       Op{OpKind::Add, "be", "busy", "127.0.0.1", hold.port(), "", ""}})
                  .ok());
  int client = send_request(fe_port_);
  bool busy = test::wait_until([&] {
    auto s = servers();
    auto* srv = s.ok() ? find(*s, "be", "busy") : nullptr;
    return srv && srv->current_sessions == 1;
  });
  ASSERT_TRUE(busy) << fx_.runtime("show stat -1 4 -1");
  auto rm = c.apply({Op{OpKind::Remove, "be", "busy", "", 0, "", ""}});
  ASSERT_TRUE(rm.ok()) << rm.error().to_string();
  auto s = servers();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)[0].servers.empty());
  close(client);
}

// check_enabled / check_passed read HAProxy's last check result, not the state a new server starts in.
TEST_F(RuntimeHaproxy, LastHealthCheckResult) {
  Listener l;  // accepts: layer-4 checks pass
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  ASSERT_TRUE(c.apply({Op{OpKind::Add, "be", "later", "127.0.0.1", l.port(), "check inter 60s", ""},
                       Op{OpKind::Add, "be", "ok", "127.0.0.1", l.port(), "check inter 200ms", ""},
                       Op{OpKind::Add, "be", "bad", "127.0.0.1", dead_port_, "check inter 200ms", ""},
                       Op{OpKind::Add, "be", "nocheck", "127.0.0.1", l.port(), "", ""}})
                  .ok());
  auto s = servers();
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  // Before its first check (60 s away): enabled, not passed, although HAProxy already counts it up.
  const auto* later = find(*s, "be", "later");
  ASSERT_NE(later, nullptr);
  EXPECT_TRUE(later->check_enabled);
  EXPECT_FALSE(later->check_passed);
  EXPECT_TRUE(later->up) << fx_.runtime("show servers state be");
  EXPECT_EQ(stat("later", "check_status"), "INI");
  EXPECT_FALSE(find(*s, "be", "nocheck")->check_enabled);
  EXPECT_FALSE(find(*s, "be", "nocheck")->check_passed);

  EXPECT_TRUE(test::wait_until([&] {
    auto now = servers();
    return now.ok() && find(*now, "be", "ok")->check_passed && stat("bad", "check_status") == "L4CON";
  })) << fx_.runtime("show servers state be");
  EXPECT_EQ(stat("ok", "check_status"), "L4OK");
  s = servers();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(find(*s, "be", "bad")->check_enabled);
  EXPECT_FALSE(find(*s, "be", "bad")->check_passed);

  // Maintenance pauses the checks and keeps the last result (stale): neither enabled nor passed.
  ASSERT_TRUE(t.run({"set server be/ok state maint"}).ok());
  s = servers();
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(find(*s, "be", "ok")->check_enabled) << fx_.runtime("show servers state be");
  EXPECT_FALSE(find(*s, "be", "ok")->check_passed);
}

// The launch gate: a held add runs its checks in drain (the result changes) and takes no request until enabled.
TEST_F(RuntimeHaproxy, HeldAddRunsChecksWithoutTrafficUntilEnabled) {
  HttpServer web;
  int new_port = test::free_port();  // nothing listens there yet: its checks fail
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  Op held{OpKind::Add, "be", "new", "127.0.0.1", new_port, "check inter 200ms", "launching"};
  held.hold = true;
  auto r = c.apply({Op{OpKind::Remove, "be", "s1", "", 0, "", ""},
                    Op{OpKind::Add, "be", "web", "127.0.0.1", web.port(), "", ""}, held});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->commands, 3u + 2u + 3u);
  auto srv = [&](const std::string& name) {
    auto s = servers();
    const core::ActualServer* p = s.ok() ? find(*s, "be", name) : nullptr;
    return p ? *p : core::ActualServer{};
  };
  EXPECT_EQ(srv("new").admin, AdminState::Drain);
  EXPECT_TRUE(srv("new").check_enabled);
  EXPECT_TRUE(test::wait_until([&] { return stat("new", "check_status") == "L4CON"; })) << stat("new", "check_status");
  EXPECT_FALSE(srv("new").check_passed);

  HttpServer fresh(new_port);  // the instance's service comes up: the next check passes, still in drain
  ASSERT_TRUE(test::wait_until([&] { return srv("new").check_passed; })) << fx_.runtime("show servers state be");
  // After failed checks, one pass is not yet up: 2.6.12 showed "DOWN 1/2" (check_health 1, rise 2) at the first
  // pass; enabled then, it got no request. The gate is check_passed and up (`rise` passes in a row).
  ASSERT_TRUE(test::wait_until([&] { return srv("new").check_passed && srv("new").up; }))
      << fx_.runtime("show servers state be");
  EXPECT_EQ(srv("new").admin, AdminState::Drain);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(http_get(fe_port_), 200);
  EXPECT_EQ(stat("new", "stot"), "0");
  EXPECT_EQ(stat("web", "stot"), "20");

  ASSERT_TRUE(c.apply({Op{OpKind::Enable, "be", "new", "", 0, "", "check passed"}}).ok());
  EXPECT_EQ(srv("new").admin, AdminState::Ready);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(http_get(fe_port_), 200);
  EXPECT_EQ(stat("new", "stot"), "10");  // roundrobin over two servers
}

// A limit of the gate, checked: an agent check answering "ready" clears the drain set over the CLI (2.6
// src/tcpcheck.c: srv_adm_set_ready clears SRV_ADMF_FDRAIN), so with such an agent the hold does not hold.
TEST_F(RuntimeHaproxy, AgentAnsweringReadyEndsAHeldAdd) {
  Listener l;
  int agent_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(agent_fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(agent_fd, reinterpret_cast<sockaddr*>(&a), &len);
  listen(agent_fd, 16);
  std::atomic<bool> stop{false};
  std::thread agent([&] {
    while (!stop) {
      int c = accept(agent_fd, nullptr, nullptr);
      if (c < 0) continue;
      (void)!::send(c, "ready\n", 6, MSG_NOSIGNAL);
      close(c);
    }
  });
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  Op held{OpKind::Add, "be", "agent", "127.0.0.1", l.port(),
          "check inter 200ms agent-check agent-inter 200ms agent-port " + std::to_string(ntohs(a.sin_port)), ""};
  held.hold = true;
  auto r = c.apply({held});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->commands, 4u);
  EXPECT_TRUE(test::wait_until([&] {
    auto s = servers();
    return s.ok() && find(*s, "be", "agent") && find(*s, "be", "agent")->admin == AdminState::Ready;
  })) << fx_.runtime("show servers state be");
  stop = true;
  shutdown(agent_fd, SHUT_RDWR);
  agent.join();
  close(agent_fd);
}

// The drain watch's read: one backend's servers and their current sessions, with a request really in flight.
TEST_F(RuntimeHaproxy, SessionsOfOneBackend) {
  Listener hold(/*hold=*/true);
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  ASSERT_TRUE(c.apply({Op{OpKind::Remove, "be", "s1", "", 0, "", ""},
                       Op{OpKind::Add, "be", "busy", "127.0.0.1", hold.port(), "", ""},
                       Op{OpKind::Add, "be", "idle", "127.0.0.1", hold.port(), "", ""},
                       Op{OpKind::Add, "empty", "other", "127.0.0.1", hold.port(), "", ""},
                       Op{OpKind::Drain, "be", "idle", "", 0, "", ""}})
                  .ok());
  auto none = c.sessions("be");
  ASSERT_TRUE(none.ok()) << none.error().to_string();
  EXPECT_EQ(*none, (RuntimeClient::Sessions{{"busy", 0}, {"idle", 0}}));

  int client = send_request(fe_port_);
  ASSERT_TRUE(test::wait_until([&] {
    auto s = c.sessions("be");
    return s.ok() && *s == RuntimeClient::Sessions{{"busy", 1}, {"idle", 0}};
  })) << fx_.runtime("show stat be 4 -1");
  auto many = c.sessions_by_backend({"be", "empty", "missing"});
  ASSERT_TRUE(many.ok()) << many.error().to_string();
  EXPECT_EQ(*many, (std::map<std::string, RuntimeClient::Sessions>{{"be", {{"busy", 1}, {"idle", 0}}},
                                                                   {"empty", {{"other", 0}}}}));
  auto missing = c.sessions("missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "NoSuchBackend");
  close(client);
}

TEST_F(RuntimeHaproxy, ThousandsOfCommandsOnOneConnection) {
  UnixSocketTransport t(fx_.admin_socket());
  std::vector<std::string> cmds(5000, "set server be/s1 state ready");
  auto t0 = std::chrono::steady_clock::now();
  auto r = t.run(cmds);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 5000u);
  for (const auto& a : *r) ASSERT_EQ(a, "");
  std::cout << "5000 commands on one connection: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count() << " ms\n";
}

TEST_F(RuntimeHaproxy, FiveHundredAddsThenRemoves) {
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  std::vector<Op> adds, removes;
  for (int i = 0; i < 500; ++i) {
    std::string name = "i-" + std::to_string(100000 + i);
    std::string addr = "127.0." + std::to_string(1 + i / 250) + "." + std::to_string(1 + i % 250);
    // With checks on (to a port where nothing listens): 3 commands per add.
    adds.push_back(Op{OpKind::Add, "be", name, addr, dead_port_, "check inter 2s weight 10", ""});
    removes.push_back(Op{OpKind::Remove, "be", name, "", 0, "", ""});
  }
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.apply(adds);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->applied, 500u);
  EXPECT_EQ(r->commands, 1500u);
  std::cout << "500 adds (1500 commands): "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count() << " ms\n";

  auto t2 = std::chrono::steady_clock::now();
  auto s = servers();
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  std::cout << "servers() with 501 servers: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t3 - t2).count() << " ms\n";
  ASSERT_EQ((*s)[0].servers.size(), 501u);
  for (const auto& op : adds) {
    auto* srv = find(*s, "be", op.server);
    ASSERT_NE(srv, nullptr) << op.server;
    EXPECT_EQ(srv->address, op.address);
    EXPECT_EQ(srv->admin, AdminState::Ready);
  }
  std::cout << "after checks to a closed port: " << (*s)[0].servers[0].name << " up=" << (*s)[0].servers[0].up
            << "\n";

  auto t4 = std::chrono::steady_clock::now();
  auto rm = c.apply(removes);
  auto t5 = std::chrono::steady_clock::now();
  ASSERT_TRUE(rm.ok()) << rm.error().to_string();
  EXPECT_EQ(rm->commands, 1500u);
  std::cout << "500 removes (1500 commands): "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t5 - t4).count() << " ms\n";
  s = servers();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[0].servers.size(), 1u);
}

TEST_F(RuntimeHaproxy, MasterReloadAndShowProc) {
  MasterClient m(fx_.master_socket());
  auto before = m.show_proc();
  ASSERT_TRUE(before.ok()) << before.error().to_string();
  EXPECT_EQ(before->master_pid, fx_.master_pid());
  EXPECT_EQ(before->reloads, 0);
  EXPECT_EQ(before->failed_reloads, 0);
  ASSERT_EQ(before->current_worker_pids.size(), 1u);

  auto st = m.reload();
  ASSERT_TRUE(st.ok()) << st.error().to_string() << "\n" << fx_.log();
  auto after = m.show_proc();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->reloads, 1);
  EXPECT_EQ(after->master_pid, before->master_pid);
  ASSERT_EQ(after->current_worker_pids.size(), 1u);
  EXPECT_NE(after->current_worker_pids[0], before->current_worker_pids[0]);
  EXPECT_EQ(fx_.master_reloads(), 1);

  // Runtime changes are lost by a reload (the file is what counts): the runtime socket works again after it.
  UnixSocketTransport t(fx_.admin_socket());
  EXPECT_TRUE(test::wait_until([&] { return RuntimeClient(t).servers({"be"}).ok(); }));
}

TEST_F(RuntimeHaproxy, FailedReloadIsAnError) {
  MasterClient m(fx_.master_socket());
  auto before = m.show_proc();
  ASSERT_TRUE(before.ok());
  fx_.write_config(HaproxyFixture::preamble() + "this_is_not_a_keyword\n");
  auto st = m.reload();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "ReloadFailed");
  EXPECT_NE(st.error().message.find("reload failed"), std::string::npos) << st.error().message;
  // The old worker keeps serving.
  auto after = m.show_proc();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->failed_reloads, 1);
  EXPECT_EQ(after->current_worker_pids, before->current_worker_pids);
  EXPECT_NE(fx_.runtime("show info").find("Name: HAProxy"), std::string::npos);
}

// A certificate replaced through the payload syntax ("set ssl cert F <<", PEM lines, an empty line), committed,
// and served: no reload. Answers stay aligned around a payload command on one connection.
class RuntimeHaproxyTls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available() || access("/usr/bin/openssl", X_OK) != 0)
      GTEST_SKIP() << "no /usr/sbin/haproxy or /usr/bin/openssl";
    site_ = fx_.dir() + "/site.pem";
    ASSERT_TRUE(make_cert("one.test", site_));
    ASSERT_TRUE(make_cert("two.test", fx_.dir() + "/two.pem"));
    tls_port_ = test::free_port();
    ASSERT_TRUE(fx_.start(HaproxyFixture::preamble() +
                          "frontend fe\n"
                          "  bind 127.0.0.1:" + std::to_string(tls_port_) + " ssl crt " + site_ + "\n"
                          "  http-request return status 200\n"))
        << fx_.log();
  }

  // A self-signed certificate and its key, in one PEM file (no empty line: openssl writes none).
  bool make_cert(const std::string& cn, const std::string& path) {
    auto r = test::run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                "-subj", "/CN=" + cn, "-keyout", path + ".key", "-out", path + ".crt"});
    if (r.exit_code != 0) {
      ADD_FAILURE() << r.err;
      return false;
    }
    test::write_file(path, test::read_file(path + ".crt") + test::read_file(path + ".key"));
    return true;
  }

  // The subject of the certificate served on the TLS bind.
  std::string served_subject() {
    auto r = test::run_command({"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(tls_port_)},
                               {}, std::chrono::seconds(10));
    auto at = r.out.find("subject=");
    return at == std::string::npos ? r.out + r.err : r.out.substr(at, r.out.find('\n', at) - at);
  }

  HaproxyFixture fx_;
  std::string site_;
  int tls_port_ = 0;
};

TEST_F(RuntimeHaproxyTls, SetSslCertWithPayloadThenCommit) {
  EXPECT_EQ(served_subject(), "subject=CN = one.test");
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  std::string two = test::read_file(fx_.dir() + "/two.pem");
  std::vector<Command> cmds{Command{"show ssl cert " + site_, {}, Expect::anything(), false}};
  for (auto& cmd : RuntimeClient::ssl_cert_update(site_, two)) cmds.push_back(cmd);
  cmds.push_back(Command{"show ssl cert " + site_, {}, Expect::anything(), false});
  auto raw = t.send(cmds);
  ASSERT_TRUE(raw.ok()) << raw.error().to_string();
  ASSERT_EQ(raw->size(), 4u);
  EXPECT_NE((*raw)[0].find("Subject: /CN=one.test"), std::string::npos) << (*raw)[0];
  // The "+ " prompts printed while the payload is read are not part of the answer.
  EXPECT_EQ((*raw)[1], "Transaction created for certificate " + site_ + "!");
  EXPECT_EQ((*raw)[2], "Committing " + site_ + ".\nSuccess!");
  EXPECT_NE((*raw)[3].find("Subject: /CN=two.test"), std::string::npos) << (*raw)[3];
  EXPECT_EQ(served_subject(), "subject=CN = two.test");

  // Back through the client, which checks each answer.
  auto back = c.execute(RuntimeClient::ssl_cert_update(site_, test::read_file(site_)));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, 2u);
  EXPECT_EQ(served_subject(), "subject=CN = one.test");
  EXPECT_EQ(fx_.master_reloads(), 0);
}

TEST_F(RuntimeHaproxyTls, BadPayloadsAreErrors) {
  UnixSocketTransport t(fx_.admin_socket());
  RuntimeClient c(t);
  // HAProxy refuses what it cannot load: the error names the command and quotes HAProxy.
  auto bad = c.execute(RuntimeClient::ssl_cert_update(site_, "not a certificate\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "HaproxyCommandFailed");
  EXPECT_NE(bad.error().message.find("\"set ssl cert " + site_ + " <<\""), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("Can't load the payload"), std::string::npos) << bad.error().message;
  EXPECT_NE(fx_.runtime("abort ssl cert " + site_).find("No ongoing transaction!"), std::string::npos);

  // Certificate and key joined with an empty line: refused before anything is sent (HAProxy would end the
  // payload at the empty line and read the key's lines as commands).
  std::string two = test::read_file(fx_.dir() + "/two.pem.crt") + "\n" + test::read_file(fx_.dir() + "/two.pem.key");
  auto blank = c.execute(RuntimeClient::ssl_cert_update(site_, two));
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.error().code, "InvalidCommand");
  EXPECT_NE(blank.error().message.find("empty line"), std::string::npos) << blank.error().message;
  EXPECT_NE(fx_.runtime("abort ssl cert " + site_).find("No ongoing transaction!"), std::string::npos);
  EXPECT_EQ(served_subject(), "subject=CN = one.test");

  // Larger than HAProxy's buffer (tune.bufsize, 16384 bytes): HAProxy closes the connection; the error says why.
  std::string big;
  for (int i = 0; i < 400; ++i) big += std::string(63, 'A') + "\n";
  auto huge = t.send(RuntimeClient::ssl_cert_update(site_, big));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("tune.bufsize"), std::string::npos) << huge.error().message;
  EXPECT_NE(fx_.runtime("show info").find("Name: HAProxy"), std::string::npos);
}

}  // namespace
}  // namespace hasg::haproxy
