// DrainWatch against a real HAProxy: while a draining server still has a session it stays quiet; the look after
// the session ends wakes the loop (within a few periods, not an interval); a drain whose timeout passed wakes it
// with the session still open; nothing watched, nothing woken.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "daemon/drain_watch.h"
#include "support/haproxy_fixture.h"
#include "support/loopback_listener.h"
#include "support/process.h"

namespace hasg::daemon {
namespace {

using namespace std::chrono_literals;
using test::HaproxyFixture;
using test::wait_until;

// A backend that accepts requests but never answers: each connection is a session held open in HAProxy until the
// test closes it.
struct SilentServer : test::LoopbackListener {
  SilentServer() : test::LoopbackListener(/*hold=*/true) {}
};

class DrainWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
    frontend_ = test::free_port();
    ASSERT_TRUE(haproxy_.start(HaproxyFixture::preamble() + "frontend web\n  bind 127.0.0.1:" +
                               std::to_string(frontend_) + "\n  default_backend app\n\nbackend app\n  server s1 127.0.0.1:" +
                               std::to_string(backend_.port()) + "\n  server s2 127.0.0.1:" +
                               std::to_string(backend_.port()) + " disabled\n"))
        << haproxy_.log();
  }

  int scur(const std::string& server) const {
    return test::HaproxyFixture::sessions_in(haproxy_.runtime("show stat app 4 -1"), server);
  }

  // A client request through HAProxy, held open by the silent backend.
  std::future<test::CommandResult> open_session() const {
    std::string url = "http://127.0.0.1:" + std::to_string(frontend_) + "/";
    return std::async(std::launch::async,
                      [url] { return test::run_command({"/usr/bin/curl", "-s", "--max-time", "10", url}); });
  }

  struct Wakes {
    std::mutex mu;
    std::vector<std::string> reasons;
    size_t count() {
      std::lock_guard lock(mu);
      return reasons.size();
    }
    std::string first() {
      std::lock_guard lock(mu);
      return reasons.empty() ? "" : reasons.front();
    }
  };

  SilentServer backend_;
  HaproxyFixture haproxy_;
  int frontend_ = 0;
};

TEST_F(DrainWatchTest, WakesOnceTheLastSessionOfADrainingServerEnds) {
  auto client = open_session();
  ASSERT_TRUE(wait_until([&] { return scur("s1") == 1 && backend_.accepted() == 1; }, 5s));
  haproxy_.runtime("set server app/s1 state drain");

  Wakes wakes;
  DrainWatch watch(haproxy_.admin_socket(), 50ms);
  ASSERT_TRUE(watch.start([&](const std::string& why) {
                std::lock_guard lock(wakes.mu);
                wakes.reasons.push_back(why);
              }).ok());
  watch.watch({{"app/s1", core::Clock::now() + 30s}});
  // Ten looks' worth with the session open: HAProxy still counts it, and no wake came.
  const auto until = std::chrono::steady_clock::now() + 500ms;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(scur("s1"), 1);
    ASSERT_EQ(wakes.count(), 0u) << wakes.first();
    std::this_thread::sleep_for(20ms);
  }

  const auto closed = std::chrono::steady_clock::now();
  backend_.close_all();  // the response ends (HAProxy answers the client 502): 0 sessions
  ASSERT_TRUE(wait_until([&] { return wakes.count() >= 1; }, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - closed, 500ms) << "a few 50 ms looks, not an interval";
  EXPECT_NE(wakes.first().find("drain of app/s1 ended (0 sessions)"), std::string::npos) << wakes.first();
  client.wait();
  // Once woken for a server, it is not watched again until the next cycle says so.
  watch.watch({});
  watch.stop();
  EXPECT_EQ(wakes.count(), 1u);
}

TEST_F(DrainWatchTest, WakesWhenADrainTimeoutPassesWithSessionsStillOpen) {
  auto client = open_session();
  ASSERT_TRUE(wait_until([&] { return scur("s1") == 1; }, 5s));
  haproxy_.runtime("set server app/s1 state drain");
  Wakes wakes;
  DrainWatch watch(haproxy_.admin_socket(), 50ms);
  ASSERT_TRUE(watch.start([&](const std::string& why) {
                std::lock_guard lock(wakes.mu);
                wakes.reasons.push_back(why);
              }).ok());
  const auto deadline = core::Clock::now() + 300ms;
  watch.watch({{"app/s1", deadline}});
  ASSERT_TRUE(wait_until([&] { return wakes.count() >= 1; }, 2s));
  EXPECT_GE(core::Clock::now(), deadline);
  EXPECT_EQ(scur("s1"), 1) << "the session is still open: the timeout woke it";
  EXPECT_NE(wakes.first().find("drain timeout of app/s1 passed"), std::string::npos) << wakes.first();
  watch.stop();
  backend_.close_all();
  client.wait();
}

TEST_F(DrainWatchTest, AnIdleDrainingServerEndsAtTheFirstLook) {
  // s2 has no session (disabled, never used): its drain ended at once, long before its timeout.
  Wakes wakes;
  DrainWatch watch(haproxy_.admin_socket(), 50ms);
  ASSERT_TRUE(watch.start([&](const std::string& why) {
                std::lock_guard lock(wakes.mu);
                wakes.reasons.push_back(why);
              }).ok());
  watch.watch({{"app/s2", core::Clock::now() + 30s}});
  ASSERT_TRUE(wait_until([&] { return wakes.count() >= 1; }, 2s));
  EXPECT_EQ(wakes.first(), "drain of app/s2 ended (0 sessions)");
  watch.stop();
}

}  // namespace
}  // namespace hasg::daemon
