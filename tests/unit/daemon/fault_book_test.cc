#include "daemon/fault_book.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace hasg::daemon {
namespace {

using namespace std::chrono_literals;

// Captures what the book logs, so "logged once" is checked, not assumed.
class LogCapture {
 public:
  LogCapture() : old_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(old_); }
  std::string text() const { return out_.str(); }
  size_t count(const std::string& needle) const {
    size_t n = 0;
    auto s = out_.str();
    for (auto p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> old_;
};

TEST(FaultBook, LogsAFaultOnceWhenItStartsAndOnceWhenItEnds) {
  LogCapture log;
  FaultBook book;
  auto t0 = std::chrono::steady_clock::time_point{} + 100s;
  EXPECT_TRUE(book.report("aws.discovery", "Throttling: Rate exceeded", "raise the interval", t0));
  EXPECT_FALSE(book.report("aws.discovery", "Throttling: Rate exceeded", "", t0 + 5s));
  EXPECT_FALSE(book.report("aws.discovery", "Throttling: Rate exceeded again", "", t0 + 10s));
  EXPECT_EQ(log.count("error aws.discovery: Throttling: Rate exceeded (raise the interval)"), 1u) << log.text();
  EXPECT_EQ(log.count("error "), 1u) << log.text();
  ASSERT_EQ(book.active().size(), 1u);
  EXPECT_EQ(book.active()[0].occurrences, 3);
  EXPECT_EQ(book.active()[0].message, "Throttling: Rate exceeded again");
  EXPECT_EQ(book.active()[0].remedy, "raise the interval") << "a report without a remedy keeps the known one";

  EXPECT_TRUE(book.resolve("aws.discovery", t0 + 12s));
  EXPECT_FALSE(book.resolve("aws.discovery", t0 + 13s));
  EXPECT_EQ(log.count("info aws.discovery: recovered after 12 s (3 failure(s))"), 1u) << log.text();
  EXPECT_TRUE(book.active().empty());
  EXPECT_FALSE(book.failing("aws.discovery"));
}

TEST(FaultBook, HealthIsDegradedWithinTheGraceAndUnhealthyAfterIt) {
  FaultBook book;
  auto t0 = std::chrono::steady_clock::time_point{} + 100s;
  EXPECT_EQ(book.health(3s, t0), (std::pair<bool, std::string>{true, "ok\n"}));
  book.report("haproxy.runtime", "connect /run/haproxy/admin.sock: No such file or directory", "is HAProxy running?",
              t0);
  auto [ok, text] = book.health(3s, t0 + 2s);
  EXPECT_TRUE(ok);
  EXPECT_EQ(text,
            "ok, degraded:\nhaproxy.runtime: failing for 2 s: connect /run/haproxy/admin.sock: No such file or "
            "directory (is HAProxy running?)\n");
  auto [ok2, text2] = book.health(3s, t0 + 4s);
  EXPECT_FALSE(ok2);
  EXPECT_EQ(text2.rfind("haproxy.runtime: failing for 4 s: ", 0), 0u) << text2;
  book.resolve("haproxy.runtime", t0 + 5s);
  EXPECT_EQ(book.health(3s, t0 + 5s).first, true);
}

TEST(FaultBook, ResolvesEveryKeyUnderAPrefixAndNoOther) {
  FaultBook book;
  book.report("backend.app.add", "x");
  book.report("backend.app.del", "y");
  book.report("backend.apple", "z");
  book.report("cycle", "w");
  book.resolve_prefix("backend.app.");
  auto left = book.active();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].key, "backend.apple");
  EXPECT_EQ(left[1].key, "cycle");
}

}  // namespace
}  // namespace hasg::daemon
