// The simulated instances' HTTP servers, spoken to over plain POSIX sockets (loopback only).
#include "sim/instance_fleet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "support/process.h"

namespace hasg::sim {
namespace {

// A client connection; connect() errno is kept so tests can check for ECONNREFUSED.
class Client {
 public:
  Client(const std::string& address, int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};  // never hang a test on a server bug
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) connect_errno_ = errno;
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connect_errno_ == 0; }
  int connect_errno() const { return connect_errno_; }

  bool send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  struct Response {
    std::string head;  // status line and headers
    std::string body;
  };
  // Reads one response (Content-Length framed; no body for HEAD). nullopt on EOF, reset or timeout.
  std::optional<Response> read(bool head_request = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Response r;
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    size_t len = 0;
    if (!head_request) {
      size_t at = r.head.find("Content-Length: ");
      if (at != std::string::npos) len = std::stoul(r.head.substr(at + 16));
    }
    while (buf_.size() < len) {
      if (!fill()) return std::nullopt;
    }
    r.body = buf_.substr(0, len);
    buf_.erase(0, len);
    return r;
  }

  // recv() result after the server is expected to have gone: 0 (EOF) or -1 with errno.
  ssize_t recv_raw(int* err) {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    *err = n < 0 ? errno : 0;
    return n;
  }

 private:
  bool fill() {
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  int connect_errno_ = 0;
  std::string buf_;
};

const std::string kGet = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

std::optional<std::string> get_body(const std::string& address, int port) {
  Client c(address, port);
  if (!c.connected() || !c.send(kGet)) return std::nullopt;
  auto r = c.read();
  if (!r) return std::nullopt;
  return r->body;
}

TEST(InstanceFleet, EachInstanceAnswersItsOwnId) {
  InstanceFleet fleet;
  int port = test::free_port();
  for (int i = 2; i <= 4; ++i) {
    auto s = fleet.start("i-" + std::to_string(i), "127.0.0." + std::to_string(i), port);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }
  EXPECT_EQ(fleet.size(), 3u);
  for (int i = 2; i <= 4; ++i) {
    Client c("127.0.0." + std::to_string(i), port);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(kGet));
    auto r = c.read();
    ASSERT_TRUE(r);
    std::string id = "i-" + std::to_string(i);
    EXPECT_EQ(r->head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r->head;
    EXPECT_NE(r->head.find("Content-Type: text/plain\r\n"), std::string::npos);
    EXPECT_NE(r->head.find("X-Instance-Id: " + id + "\r\n"), std::string::npos);
    EXPECT_EQ(r->body, id + "\n");
  }
}

TEST(InstanceFleet, KeepAlivePipeliningAndCounting) {
  InstanceFleet fleet;
  int port = test::free_port();
  ASSERT_TRUE(fleet.start("i-a", "127.0.0.2", port).ok());
  EXPECT_EQ(fleet.requests("i-a"), 0u);
  EXPECT_EQ(fleet.requests("i-unknown"), 0u);

  Client c("127.0.0.2", port);
  ASSERT_TRUE(c.connected());
  // Two requests one after the other on the same connection.
  ASSERT_TRUE(c.send(kGet));
  ASSERT_TRUE(c.read());
  ASSERT_TRUE(c.send("OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "i-a\n");
  // Pipelined: a POST with a body (skipped), a HEAD (no body), then a GET, all in one write.
  ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                     "HEAD / HTTP/1.1\r\n\r\n" + kGet));
  ASSERT_TRUE(c.read());
  auto head = c.read(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_NE(head->head.find("Content-Length: 4\r\n"), std::string::npos);
  auto last = c.read();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "i-a\n");
  EXPECT_EQ(fleet.requests("i-a"), 5u);
}

TEST(InstanceFleet, FirstRequestTime) {
  InstanceFleet fleet;
  int port = test::free_port();
  ASSERT_TRUE(fleet.start("i-f", "127.0.0.2", port).ok());
  EXPECT_FALSE(fleet.first_request_time("i-f"));
  EXPECT_FALSE(fleet.first_request_time("i-unknown"));
  auto before = std::chrono::steady_clock::now();
  ASSERT_EQ(get_body("127.0.0.2", port), "i-f\n");
  auto first = fleet.first_request_time("i-f");
  ASSERT_TRUE(first);
  EXPECT_GE(*first, before);
  EXPECT_LE(*first, std::chrono::steady_clock::now());
  ASSERT_EQ(get_body("127.0.0.2", port), "i-f\n");
  EXPECT_EQ(fleet.first_request_time("i-f"), first);  // the first one stays
  fleet.kill("i-f");
  EXPECT_EQ(fleet.first_request_time("i-f"), first);  // kept after the server died
}

TEST(InstanceFleet, ConnectionCloseAndHttp10) {
  InstanceFleet fleet;
  int port = test::free_port();
  ASSERT_TRUE(fleet.start("i-a", "127.0.0.2", port).ok());
  int err = 0;
  {
    Client c("127.0.0.2", port);
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_NE(r->head.find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(c.recv_raw(&err), 0);  // server closed
  }
  {
    Client c("127.0.0.2", port);
    ASSERT_TRUE(c.send("GET / HTTP/1.0\r\n\r\n"));
    ASSERT_TRUE(c.read());
    EXPECT_EQ(c.recv_raw(&err), 0);
  }
  {
    Client c("127.0.0.2", port);
    ASSERT_TRUE(c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_NE(r->head.find("Connection: keep-alive\r\n"), std::string::npos);
    ASSERT_TRUE(c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    EXPECT_TRUE(c.read());
  }
  {
    Client c("127.0.0.2", port);
    ASSERT_TRUE(c.send("garbage\r\n\r\n"));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->head.rfind("HTTP/1.1 400", 0), 0u);
  }
}

TEST(InstanceFleet, KillResetsConnectionsAndRestartWorks) {
  InstanceFleet fleet;
  int port = test::free_port();
  ASSERT_TRUE(fleet.start("i-a", "127.0.0.2", port).ok());
  ASSERT_TRUE(fleet.start("i-b", "127.0.0.3", port).ok());
  Client open("127.0.0.2", port);
  ASSERT_TRUE(open.send(kGet));
  ASSERT_TRUE(open.read());

  fleet.kill("i-a");
  EXPECT_FALSE(fleet.running("i-a"));
  EXPECT_TRUE(fleet.running("i-b"));
  EXPECT_EQ(fleet.size(), 1u);
  int err = 0;
  ssize_t n = open.recv_raw(&err);
  EXPECT_TRUE(n == 0 || (n < 0 && err == ECONNRESET)) << n << " " << std::strerror(err);
  Client refused("127.0.0.2", port);
  EXPECT_EQ(refused.connect_errno(), ECONNREFUSED);
  EXPECT_EQ(get_body("127.0.0.3", port), "i-b\n");  // the others live on
  fleet.kill("i-a");                                 // killing twice is harmless
  fleet.kill("i-never");

  ASSERT_TRUE(fleet.start("i-a", "127.0.0.2", port).ok());
  EXPECT_TRUE(fleet.running("i-a"));
  EXPECT_EQ(get_body("127.0.0.2", port), "i-a\n");
  EXPECT_EQ(fleet.requests("i-a"), 2u);  // counted across the restart
}

TEST(InstanceFleet, DelayHoldsEachAnswer) {
  InstanceFleet fleet;
  int port = test::free_port();
  ASSERT_TRUE(fleet.start("i-slow", "127.0.0.2", port, 200).ok());
  ASSERT_TRUE(fleet.start("i-fast", "127.0.0.3", port).ok());
  Client c("127.0.0.2", port);
  for (int i = 0; i < 2; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(c.send(kGet));
    // The slow instance must not hold up the others on the same thread.
    EXPECT_EQ(get_body("127.0.0.3", port), "i-fast\n");
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "i-slow\n");
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
  }
}

// A request may ask for its own delay (?delay_ms=N): streamed like the instance's own, the head at once and the
// body's rest later, while requests asking nothing are answered at the instance's pace (here at once).
TEST(InstanceFleet, DelayAskedByTheRequest) {
  InstanceFleet fleet;
  int port = test::free_port();
  ASSERT_TRUE(fleet.start("i-asked", "127.0.0.4", port, 0, /*stream=*/true).ok());
  Client slow("127.0.0.4", port);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.send("GET /?x=1&delay_ms=300 HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Another connection asking nothing is answered while the slow answer is still open.
  EXPECT_EQ(get_body("127.0.0.4", port), "i-asked\n");
  auto r = slow.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "i-asked\n");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(300));
  // Streamed: the head and the body's first byte leave at once, before the rest.
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.send("GET /?delay_ms=2000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  int err = 0;
  EXPECT_EQ(slow.recv_raw(&err), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(1500)) << "the head came first";
  // A delay that is not a number of at most 60000 ms is a bad request.
  Client bad("127.0.0.4", port);
  ASSERT_TRUE(bad.send("GET /?delay_ms=abc HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto b = bad.read();
  ASSERT_TRUE(b);
  EXPECT_NE(b->head.find("400 Bad Request"), std::string::npos) << b->head;
}

TEST(InstanceFleet, StartErrors) {
  InstanceFleet fleet;
  int port = test::free_port();
  ASSERT_TRUE(fleet.start("i-a", "127.0.0.2", port).ok());
  auto dup = fleet.start("i-a", "127.0.0.9", port);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("already running"), std::string::npos) << dup.error().message;

  auto busy = fleet.start("i-b", "127.0.0.2", port);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().message,
            "cannot listen on 127.0.0.2:" + std::to_string(port) + ": Address already in use");
  EXPECT_FALSE(fleet.running("i-b"));

  EXPECT_FALSE(fleet.start("i-c", "10.0.0.1", port).ok());  // loopback only
  EXPECT_FALSE(fleet.start("i-c", "not-an-address", port).ok());
  EXPECT_EQ(fleet.size(), 1u);
}

TEST(InstanceFleet, AThousandInstances) {
  InstanceFleet fleet;
  int port = test::free_port();
  auto address = [](int i) { return "127.0." + std::to_string(1 + i / 250) + "." + std::to_string(1 + i % 250); };
  for (int i = 0; i < 1000; ++i) {
    auto s = fleet.start("i-" + std::to_string(i), address(i), port);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }
  EXPECT_EQ(fleet.size(), 1000u);
  for (int i = 0; i < 1000; i += 37) {
    EXPECT_EQ(get_body(address(i), port), "i-" + std::to_string(i) + "\n") << address(i);
  }
  EXPECT_EQ(get_body(address(999), port), "i-999\n");
}

}  // namespace
}  // namespace hasg::sim
