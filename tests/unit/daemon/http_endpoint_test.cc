// The observability endpoint, served and queried on loopback only.
#include "daemon/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "daemon/metrics.h"

namespace hasg::daemon {
namespace {

class HttpEndpointTest : public ::testing::Test {
 protected:
  HttpEndpoint::Handlers handlers() {
    HttpEndpoint::Handlers h;
    h.metrics = [this] { return metrics.render(); };
    h.health = [this] { return std::pair<bool, std::string>{healthy.load(), "last cycle failed: discovery timed out"}; };
    h.status_json = [] { return std::string(R"({"backends":[]})"); };
    return h;
  }

  httplib::Client client(int port) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(2, 0);
    c.set_read_timeout(5, 0);
    return c;
  }

  Metrics metrics;
  std::atomic<bool> healthy{true};
};

TEST_F(HttpEndpointTest, ServesMetricsHealthAndStatus) {
  metrics.counter("hasg_cycles_total", "Sync cycles run.");
  metrics.inc("hasg_cycles_total", {}, 5);
  HttpEndpoint ep(handlers());
  auto st = ep.start("127.0.0.1:0");
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  ASSERT_GT(ep.port(), 0);
  auto c = client(ep.port());

  auto r = c.Get("/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->body, "# HELP hasg_cycles_total Sync cycles run.\n# TYPE hasg_cycles_total counter\nhasg_cycles_total 5\n");

  r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");

  r = c.Get("/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->body, "{\"backends\":[]}\n");

  // The body follows the registry as it changes.
  metrics.inc("hasg_cycles_total");
  r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("hasg_cycles_total 6\n"), std::string::npos) << r->body;
}

TEST_F(HttpEndpointTest, UnhealthyIs503WithTheReason) {
  HttpEndpoint ep(handlers());
  ASSERT_TRUE(ep.start("127.0.0.1:0").ok());
  healthy = false;
  auto c = client(ep.port());
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "last cycle failed: discovery timed out\n");
  healthy = true;
  r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n") << "a reason that is not the fault book's 'ok, degraded' is not shown while healthy";
}

// A fault within its grace: healthy, and /healthz says which (FaultBook::health's text).
TEST_F(HttpEndpointTest, DegradedIs200WithTheFaults) {
  HttpEndpoint::Handlers h = handlers();
  h.health = [] {
    return std::pair<bool, std::string>{true, "ok, degraded:\nhaproxy.runtime: failing for 1 s: gone (start it)\n"};
  };
  HttpEndpoint ep(h);
  ASSERT_TRUE(ep.start("127.0.0.1:0").ok());
  auto r = client(ep.port()).Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok, degraded:\nhaproxy.runtime: failing for 1 s: gone (start it)\n");
}

TEST_F(HttpEndpointTest, AnythingElseIs404) {
  HttpEndpoint ep(handlers());
  ASSERT_TRUE(ep.start("127.0.0.1:0").ok());
  auto c = client(ep.port());
  for (const char* path : {"/", "/metrics/", "/metricsx", "/healthz/extra", "/favicon.ico", "/status.json"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  auto r = c.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Delete("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(HttpEndpointTest, MissingHandlersAnd404AndDefaultHealth) {
  HttpEndpoint ep(HttpEndpoint::Handlers{});
  ASSERT_TRUE(ep.start("127.0.0.1:0").ok());
  auto c = client(ep.port());
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Get("/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpEndpointTest, HandlerExceptionIs500AndTheServerKeepsServing) {
  HttpEndpoint::Handlers h = handlers();
  h.status_json = []() -> std::string { throw std::runtime_error("state unavailable"); };
  HttpEndpoint ep(h);
  ASSERT_TRUE(ep.start("127.0.0.1:0").ok());
  auto c = client(ep.port());
  auto r = c.Get("/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("state unavailable"), std::string::npos);
  r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpEndpointTest, OccupiedPortFailsNamingTheAddress) {
  // A plain listening socket holds the port.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  int port = ntohs(sa.sin_port);

  HttpEndpoint ep(handlers());
  std::string addr = "127.0.0.1:" + std::to_string(port);
  auto st = ep.start(addr);
  ::close(fd);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(addr), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("in use"), std::string::npos) << st.error().message;
  EXPECT_EQ(ep.port(), 0);
}

TEST_F(HttpEndpointTest, SecondEndpointOnTheSamePortFails) {
  // cpp-httplib's default socket options set SO_REUSEPORT, which would let two daemons share a port; ours do not.
  HttpEndpoint first(handlers());
  ASSERT_TRUE(first.start("127.0.0.1:0").ok());
  HttpEndpoint second(handlers());
  auto st = second.start("127.0.0.1:" + std::to_string(first.port()));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("127.0.0.1:" + std::to_string(first.port())), std::string::npos);
}

TEST_F(HttpEndpointTest, StopReleasesThePortAndCanRestart) {
  HttpEndpoint ep(handlers());
  ASSERT_TRUE(ep.start("127.0.0.1:0").ok());
  int port = ep.port();
  {
    auto c = client(port);
    ASSERT_TRUE(c.Get("/healthz"));
  }
  EXPECT_FALSE(ep.start("127.0.0.1:0").ok());  // already started
  ep.stop();
  ep.stop();  // idempotent
  EXPECT_EQ(ep.port(), 0);
  {
    auto c = client(port);
    c.set_connection_timeout(1, 0);
    EXPECT_FALSE(c.Get("/healthz"));
  }
  auto st = ep.start("127.0.0.1:" + std::to_string(port));  // same port again right away
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  auto c = client(port);
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpEndpointTest, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    HttpEndpoint ep(handlers());
    ASSERT_TRUE(ep.start("127.0.0.1:0").ok());
  }  // destructor stops
}

TEST_F(HttpEndpointTest, ServesIpv6Loopback) {
  HttpEndpoint ep(handlers());
  auto st = ep.start("[::1]:0");
  if (!st.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << st.error().to_string();
  httplib::Client c("::1", ep.port());
  c.set_connection_timeout(2, 0);
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
}

TEST(ParseListenAddressTest, Forms) {
  auto a = parse_listen_address("127.0.0.1:9717");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9717);
  a = parse_listen_address("[::1]:9717");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 9717);
  a = parse_listen_address("localhost:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 0);
  a = parse_listen_address("9717");  // a bare port is loopback
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  a = parse_listen_address(kDefaultListen);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");

  for (const char* bad : {"", ":9717", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:http", "::1:9717", "[::1]9717",
                          "[::1", "[]:1", "127.0.0.1:-1"}) {
    auto r = parse_listen_address(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(std::string("\"") + bad + "\""), std::string::npos) << r.error().message;
  }
}

TEST(ParseListenAddressTest, StartReportsABadAddress) {
  HttpEndpoint ep(HttpEndpoint::Handlers{});
  auto st = ep.start(":9717");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(":9717"), std::string::npos);
}

}  // namespace
}  // namespace hasg::daemon
