// The simulator's per-instance InService and first-request times (used by bench/churn_bench).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "sim/simulator.h"
#include "support/process.h"

namespace hasg::sim {
namespace {

bool get(const std::string& address, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ok = ok && ::send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof req - 1);
  char buf[512];
  ok = ok && ::recv(fd, buf, sizeof buf, 0) > 0;
  close(fd);
  return ok;
}

TEST(SimulatorTimes, InServiceThenFirstRequest) {
  SimOptions opt;
  opt.instance_net = 211;
  opt.instance_port = test::free_port();
  opt.pending = std::chrono::milliseconds(100);
  Simulator sim(opt);
  ASSERT_TRUE(sim.start().ok());
  auto launched = std::chrono::steady_clock::now();
  ASSERT_TRUE(sim.create_group("app", 1).ok());
  auto times = sim.instance_times();
  ASSERT_EQ(times.size(), 1u);
  EXPECT_EQ(times[0].group, "app");
  EXPECT_FALSE(times[0].in_service);  // still Pending
  EXPECT_FALSE(times[0].first_request);

  std::optional<std::chrono::steady_clock::time_point> in_service;
  for (int i = 0; i < 200 && !in_service; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    in_service = sim.instance_times()[0].in_service;
  }
  ASSERT_TRUE(in_service);
  EXPECT_GE(*in_service - launched, std::chrono::milliseconds(100));

  auto inst = sim.instances("app").at(0);
  ASSERT_TRUE(get(inst.address, opt.instance_port));
  auto t = sim.instance_times()[0];
  ASSERT_TRUE(t.first_request);
  EXPECT_GE(*t.first_request, *in_service);

  // Terminated instances stay listed, with their times.
  ASSERT_TRUE(sim.set_desired("app", 0).ok());
  auto after = sim.instance_times();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].in_service, in_service);
  EXPECT_EQ(after[0].first_request, t.first_request);
}

}  // namespace
}  // namespace hasg::sim
