// The status screen as a pure function: highlighted mismatches, drain time left, request rates from two samples,
// a terminal's escapes and width versus plain text.
#include <gtest/gtest.h>

#include "cli/watch_screen.h"

namespace hasg::cli {
namespace {

using namespace std::chrono_literals;

daemon::StatusServer row(const std::string& id, const std::string& lifecycle, const std::string& admin,
                         long long requests) {
  daemon::StatusServer s;
  s.server = id;
  s.group = daemon::StatusGroupSide{lifecycle, lifecycle == "InService", "10.0.0.1", "", "us-east-1c", "Healthy", {}};
  daemon::StatusHaproxySide h;
  h.address = "10.0.0.1:80";
  h.ip = "10.0.0.1";
  h.admin = admin;
  h.up = true;
  h.sessions = 4;
  h.has_stats = true;
  h.status = admin == "drain" ? "DRAIN" : "UP";
  h.weight = 10;
  h.requests = requests;
  h.check_status = "L7OK";
  h.check_code = "200";
  h.check_ms = 3;
  s.haproxy = h;
  return s;
}

StatusSample sample(core::TimePoint at, std::vector<daemon::StatusServer> servers) {
  StatusSample s;
  s.at = at;
  s.source = "config /etc/haproxy-asg.yaml";
  s.backends = {{"web", "app", true, std::move(servers)}};
  return s;
}

// The line of the frame that mentions `needle`.
std::string line_with(const std::string& frame, const std::string& needle) {
  size_t at = frame.find(needle);
  if (at == std::string::npos) return "";
  size_t start = frame.rfind('\n', at);
  start = start == std::string::npos ? 0 : start + 1;
  return frame.substr(start, frame.find('\n', at) - start);
}

const core::TimePoint t0 = core::TimePoint(std::chrono::seconds(1'800'000'000));

TEST(WatchScreen, ShowsEachServersViewsSideBySide) {
  auto frame = render_screen(sample(t0, {row("i-0aaa", "InService", "ready", 10)}), nullptr, {});
  EXPECT_NE(frame.find("2027-01-15 08:00:00 UTC"), std::string::npos) << frame;
  EXPECT_NE(frame.find("backend web <- group app: 1 in the group (1 served), 1 in HAProxy (1 up), 0 draining, "
                       "0 mismatches"),
            std::string::npos)
      << frame;
  auto l = line_with(frame, "i-0aaa");
  for (const char* want : {"us-east-1c", "InService", "UP", "L7OK/200 3ms", "10", "4", "10.0.0.1:80"})
    EXPECT_NE(l.find(want), std::string::npos) << want << " in: " << l;
  EXPECT_EQ(l[0], ' ');  // no mismatch mark
}

TEST(WatchScreen, MismatchIsMarkedInPlainTextAndHighlightedOnATerminal) {
  auto bad = row("i-0bad", "InService", "drain", 1);
  bad.mismatches = {"draining in HAProxy while InService"};
  auto s = sample(t0, {row("i-0good", "InService", "ready", 1), bad});

  auto plain = render_screen(s, nullptr, {false, 0, true, 1s});
  EXPECT_EQ(plain.find('\x1b'), std::string::npos) << "plain output has no escape sequence";
  auto l = line_with(plain, "i-0bad");
  EXPECT_EQ(l.substr(0, 2), "! ");
  EXPECT_NE(l.find("draining in HAProxy while InService"), std::string::npos) << l;
  EXPECT_NE(plain.find("1 mismatch\n"), std::string::npos) << plain;

  auto tty = render_screen(s, nullptr, {true, 200, true, 1s});
  EXPECT_EQ(line_with(tty, "i-0bad").substr(0, 7), "\x1b[1;31m");  // red
  EXPECT_EQ(line_with(tty, "i-0good").find('\x1b'), std::string::npos);  // an agreeing row stays plain
  EXPECT_NE(tty.find("Ctrl-C quits"), std::string::npos);
  EXPECT_NE(render_screen(s, nullptr, {false, 0, true, 300ms}).find("  every 0.3s  "), std::string::npos);
}

TEST(WatchScreen, DrainTimeLeft) {
  auto known = row("i-0known", "Terminating:Wait", "drain", 1);
  known.drain = daemon::StatusDrain{12.0, 30, 17.2, false};
  auto guessed = row("i-0guess", "Terminating:Wait", "drain", 1);
  guessed.drain = daemon::StatusDrain{5.0, 30, 25.0, true};
  auto unknown = row("i-0unknown", "Terminating:Wait", "drain", 1);
  unknown.drain = daemon::StatusDrain{std::nullopt, 30, std::nullopt, true};
  auto frame = render_screen(sample(t0, {known, guessed, unknown}), nullptr, {});
  EXPECT_NE(line_with(frame, "i-0known").find(" 18s left"), std::string::npos) << frame;
  EXPECT_NE(line_with(frame, "i-0guess").find(" ~25s left"), std::string::npos) << frame;
  EXPECT_NE(line_with(frame, "i-0unknown").find(" ? "), std::string::npos) << frame;
  EXPECT_NE(frame.find("3 draining"), std::string::npos) << frame;
}

TEST(WatchScreen, RequestRateFromTwoSamples) {
  auto before = sample(t0, {row("i-0a", "InService", "ready", 100), row("i-0b", "InService", "ready", 500)});
  auto after = sample(t0 + 2s, {row("i-0a", "InService", "ready", 110), row("i-0b", "InService", "ready", 3)});
  EXPECT_DOUBLE_EQ(*request_rate(after, &before, "web", "i-0a"), 5.0);
  EXPECT_FALSE(request_rate(after, &before, "web", "i-0b"));  // the count went back: removed and added again
  EXPECT_FALSE(request_rate(after, nullptr, "web", "i-0a"));
  EXPECT_FALSE(request_rate(after, &before, "other", "i-0a"));

  auto frame = render_screen(after, &before, {});
  EXPECT_NE(line_with(frame, "i-0a").find(" 5.0 "), std::string::npos) << frame;
  auto first = render_screen(before, nullptr, {});
  EXPECT_EQ(line_with(first, "i-0a").find(" 5.0 "), std::string::npos) << first;
}

TEST(WatchScreen, ATerminalCutsLinesAtItsWidth) {
  auto bad = row("i-0bad", "InService", "drain", 1);
  bad.mismatches = {"draining in HAProxy while InService, a long note that would wrap the screen"};
  auto s = sample(t0, {bad});
  auto tty = render_screen(s, nullptr, {true, 60, true, 1s});
  std::string l = line_with(tty, "i-0bad");
  ASSERT_TRUE(l.starts_with("\x1b[1;31m") && l.ends_with("\x1b[0m")) << l;
  EXPECT_EQ(l.size(), 60u + 7 + 4);  // 60 columns of text inside the colour escapes
  auto plain = render_screen(s, nullptr, {false, 60, true, 1s});
  EXPECT_GT(line_with(plain, "i-0bad").size(), 60u);  // plain output is for pipes and logs: never cut
}

TEST(WatchScreen, ARefreshThatFailedSaysWhy) {
  StatusSample s;
  s.at = t0;
  s.error = "GET http://127.0.0.1:9717/status: Could not establish connection";
  auto frame = render_screen(s, nullptr, {false, 0, true, 1s});
  EXPECT_NE(frame.find("error: GET http://127.0.0.1:9717/status: Could not establish connection"), std::string::npos)
      << frame;
}

}  // namespace
}  // namespace hasg::cli
