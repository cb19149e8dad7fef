#include "daemon/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hasg::daemon {
namespace {

TEST(MetricsTest, RendersCountersAndGaugesSortedByNameThenLabels) {
  Metrics m;
  m.gauge("hasg_servers", "Servers by backend and state.");
  m.counter("hasg_cycles_total", "Sync cycles run.");
  m.inc("hasg_cycles_total");
  m.inc("hasg_cycles_total", {}, 2);
  m.set("hasg_servers", {{"backend", "web"}, {"state", "up"}}, 3);
  m.set("hasg_servers", {{"backend", "app"}, {"state", "up"}}, 2);
  m.set("hasg_servers", {{"backend", "app"}, {"state", "drain"}}, 1);
  EXPECT_EQ(m.render(),
            "# HELP hasg_cycles_total Sync cycles run.\n"
            "# TYPE hasg_cycles_total counter\n"
            "hasg_cycles_total 3\n"
            "# HELP hasg_servers Servers by backend and state.\n"
            "# TYPE hasg_servers gauge\n"
            "hasg_servers{backend=\"app\",state=\"drain\"} 1\n"
            "hasg_servers{backend=\"app\",state=\"up\"} 2\n"
            "hasg_servers{backend=\"web\",state=\"up\"} 3\n");
  EXPECT_EQ(m.value("hasg_cycles_total"), 3);
  EXPECT_EQ(m.value("hasg_servers", {{"backend", "app"}, {"state", "up"}}), 2);
  EXPECT_EQ(m.value("hasg_servers", {{"backend", "nope"}}), 0);
  EXPECT_EQ(m.value("no_such_metric"), 0);
}

TEST(MetricsTest, LabelsKeepTheGivenOrder) {
  Metrics m;
  m.gauge("g", "h");
  m.set("g", {{"z", "1"}, {"a", "2"}}, 5);
  EXPECT_EQ(m.render(), "# HELP g h\n# TYPE g gauge\ng{z=\"1\",a=\"2\"} 5\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Metrics m;
  m.counter("errors_total", "Errors, by \"reason\"\nwith a \\ backslash.");
  m.inc("errors_total", {{"reason", "a \"quoted\" \\path\\\nnext line"}});
  EXPECT_EQ(m.render(),
            "# HELP errors_total Errors, by \"reason\"\\nwith a \\\\ backslash.\n"
            "# TYPE errors_total counter\n"
            "errors_total{reason=\"a \\\"quoted\\\" \\\\path\\\\\\nnext line\"} 1\n");
}

TEST(MetricsTest, DeclaredFamilyWithoutSeriesShowsOnlyHelpAndType) {
  Metrics m;
  m.counter("c_total", "c");
  EXPECT_EQ(m.render(), "# HELP c_total c\n# TYPE c_total counter\n");
  m.inc("c_total", {}, 0);
  EXPECT_EQ(m.render(), "# HELP c_total c\n# TYPE c_total counter\nc_total 0\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInf) {
  Metrics m;
  m.histogram("hasg_cycle_seconds", "Cycle duration.", {1, 0.1, 0.5});  // sorted on declaration
  m.observe("hasg_cycle_seconds", {{"result", "ok"}}, 0.05);
  m.observe("hasg_cycle_seconds", {{"result", "ok"}}, 0.1);  // le is inclusive
  m.observe("hasg_cycle_seconds", {{"result", "ok"}}, 0.3);
  m.observe("hasg_cycle_seconds", {{"result", "ok"}}, 7);
  m.observe("hasg_cycle_seconds", {}, 0.25);
  EXPECT_EQ(m.render(),
            "# HELP hasg_cycle_seconds Cycle duration.\n"
            "# TYPE hasg_cycle_seconds histogram\n"
            "hasg_cycle_seconds_bucket{le=\"0.1\"} 0\n"
            "hasg_cycle_seconds_bucket{le=\"0.5\"} 1\n"
            "hasg_cycle_seconds_bucket{le=\"1\"} 1\n"
            "hasg_cycle_seconds_bucket{le=\"+Inf\"} 1\n"
            "hasg_cycle_seconds_sum 0.25\n"
            "hasg_cycle_seconds_count 1\n"
            "hasg_cycle_seconds_bucket{result=\"ok\",le=\"0.1\"} 2\n"
            "hasg_cycle_seconds_bucket{result=\"ok\",le=\"0.5\"} 3\n"
            "hasg_cycle_seconds_bucket{result=\"ok\",le=\"1\"} 3\n"
            "hasg_cycle_seconds_bucket{result=\"ok\",le=\"+Inf\"} 4\n"
            "hasg_cycle_seconds_sum{result=\"ok\"} 7.45\n"
            "hasg_cycle_seconds_count{result=\"ok\"} 4\n");
  EXPECT_EQ(m.count("hasg_cycle_seconds", {{"result", "ok"}}), 4u);
  EXPECT_DOUBLE_EQ(m.value("hasg_cycle_seconds", {{"result", "ok"}}), 7.45);
  EXPECT_EQ(m.count("hasg_cycle_seconds", {{"result", "failed"}}), 0u);
}

TEST(MetricsTest, HistogramDefaultBuckets) {
  Metrics m;
  m.histogram("h", "d", {});
  m.observe("h", {}, 3);
  EXPECT_EQ(m.render(),
            "# HELP h d\n# TYPE h histogram\n"
            "h_bucket{le=\"0.005\"} 0\nh_bucket{le=\"0.01\"} 0\nh_bucket{le=\"0.025\"} 0\nh_bucket{le=\"0.05\"} 0\n"
            "h_bucket{le=\"0.1\"} 0\nh_bucket{le=\"0.25\"} 0\nh_bucket{le=\"0.5\"} 0\nh_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"2.5\"} 0\nh_bucket{le=\"5\"} 1\nh_bucket{le=\"10\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
            "h_sum 3\nh_count 1\n");
}

TEST(MetricsTest, HistogramExplicitInfBucketIsNotRepeated) {
  Metrics m;
  m.histogram("h", "d", {2, std::numeric_limits<double>::infinity(), 2});
  m.observe("h", {}, 1);
  EXPECT_EQ(m.render(), "# HELP h d\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n");
}

TEST(MetricsTest, FormatsNumbers) {
  EXPECT_EQ(Metrics::format_value(0), "0");
  EXPECT_EQ(Metrics::format_value(-0.0), "0");
  EXPECT_EQ(Metrics::format_value(42), "42");
  EXPECT_EQ(Metrics::format_value(-7), "-7");
  EXPECT_EQ(Metrics::format_value(1e15), "1000000000000000");
  EXPECT_EQ(Metrics::format_value(1700000000), "1700000000");
  EXPECT_EQ(Metrics::format_value(0.1), "0.1");
  EXPECT_EQ(Metrics::format_value(2.5), "2.5");
  EXPECT_EQ(Metrics::format_value(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(Metrics::format_value(1e-7), "1e-07");
  EXPECT_EQ(Metrics::format_value(1e20), "1e+20");
  EXPECT_EQ(Metrics::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Metrics::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(Metrics::format_value(std::nan("")), "NaN");
  // Round-trips exactly.
  for (double v : {0.1 + 0.2, 123.456, 1e-300, 6.02214076e23}) {
    EXPECT_EQ(std::stod(Metrics::format_value(v)), v) << Metrics::format_value(v);
  }
}

TEST(MetricsTest, ClearDropsEverySeriesOfAFamily) {
  Metrics m;
  m.gauge("servers", "s");
  m.gauge("other", "o");
  m.set("servers", {{"backend", "a"}, {"state", "up"}}, 2);
  m.set("servers", {{"backend", "b"}, {"state", "up"}}, 1);
  m.set("other", {}, 9);
  m.clear("servers");
  EXPECT_EQ(m.value("servers", {{"backend", "a"}, {"state", "up"}}), 0);
  EXPECT_EQ(m.render(), "# HELP other o\n# TYPE other gauge\nother 9\n# HELP servers s\n# TYPE servers gauge\n");
  m.set("servers", {{"backend", "b"}, {"state", "drain"}}, 1);  // rebuilt: only the new series
  EXPECT_EQ(m.render(),
            "# HELP other o\n# TYPE other gauge\nother 9\n"
            "# HELP servers s\n# TYPE servers gauge\nservers{backend=\"b\",state=\"drain\"} 1\n");
}

TEST(MetricsTest, DeclaringTwiceIsANoOp) {
  Metrics m;
  m.counter("c_total", "first");
  m.inc("c_total");
  m.counter("c_total", "second");
  EXPECT_EQ(m.value("c_total"), 1);
  EXPECT_EQ(m.render(), "# HELP c_total first\n# TYPE c_total counter\nc_total 1\n");
}

TEST(MetricsTest, MisuseThrowsLogicError) {
  Metrics m;
  EXPECT_THROW(m.inc("undeclared"), std::logic_error);
  EXPECT_THROW(m.set("undeclared", {}, 1), std::logic_error);
  EXPECT_THROW(m.observe("undeclared", {}, 1), std::logic_error);
  EXPECT_THROW(m.clear("undeclared"), std::logic_error);
  m.counter("c_total", "c");
  m.gauge("g", "g");
  m.histogram("h", "h", {1});
  EXPECT_THROW(m.gauge("c_total", "again, as another type"), std::logic_error);
  EXPECT_THROW(m.inc("c_total", {}, -1), std::logic_error);
  EXPECT_THROW(m.set("c_total", {}, 1), std::logic_error);
  EXPECT_THROW(m.observe("g", {}, 1), std::logic_error);
  EXPECT_THROW(m.inc("h"), std::logic_error);
  EXPECT_THROW(m.observe("h", {{"le", "1"}}, 1), std::logic_error);
  EXPECT_THROW(m.inc("c_total", {{"bad-name", "x"}}), std::logic_error);
  EXPECT_THROW(m.counter("bad name", "x"), std::logic_error);
  EXPECT_THROW(m.counter("9lives", "x"), std::logic_error);
  EXPECT_NO_THROW(m.inc("g", {}, -1));  // gauges go both ways
  EXPECT_EQ(m.value("g"), -1);
  try {
    m.inc("hasg_typo_total");
    FAIL() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("hasg_typo_total"), std::string::npos) << e.what();
  }
}

TEST(MetricsTest, ConcurrentIncrementsGiveTheExactSum) {
  Metrics m;
  m.counter("c_total", "c");
  m.histogram("h", "h", {0.5});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < kPerThread; ++i) {
        m.inc("c_total");
        m.inc("c_total", {{"thread", std::to_string(t % 2)}});
        m.observe("h", {}, 1);
        if (i % 1000 == 0) (void)m.render();  // readers alongside writers
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(m.value("c_total"), kThreads * kPerThread);
  EXPECT_EQ(m.value("c_total", {{"thread", "0"}}) + m.value("c_total", {{"thread", "1"}}), kThreads * kPerThread);
  EXPECT_EQ(m.count("h"), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_NE(m.render().find("c_total 160000\n"), std::string::npos);
}

}  // namespace
}  // namespace hasg::daemon
