// A small Prometheus metrics registry: counters, gauges and histograms with labels, rendered in the text exposition
// format 0.0.4 for the daemon's /metrics endpoint.
//
// Written here because no Debian package offers a C++ Prometheus client (prometheus-cpp is not in Debian 12), and the
// daemon needs only this much: a few dozen families, rendered on every scrape.
//
// Thread-safe: every method may be called from any thread (the sync loop writes, the HTTP endpoint's threads render).
// One mutex guards the whole registry; the write rate is a handful per cycle, the read rate one render per scrape.
//
// Misuse is a programming error and throws std::logic_error: using a name that was never declared, declaring a name
// again with another type, an invalid metric or label name, a negative counter increment, set() on a counter or
// histogram, inc() or set() on a histogram, observe() on anything else, the label name "le" on a histogram.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hasg::daemon {

// Label name/value pairs, rendered in the order given. A series is identified by its labels as given, so a caller
// must give the same names in the same order for the same series.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Declares a family once; declaring the same name again with the same type is a no-op (the first help and buckets
  // stay). A histogram with no buckets gets Prometheus' default ones (.005 ... 10 seconds); the +Inf bucket is
  // always implied.
  void counter(const std::string& name, const std::string& help);
  void gauge(const std::string& name, const std::string& help);
  void histogram(const std::string& name, const std::string& help, std::vector<double> buckets);

  // Counters and gauges. A counter's increment must not be negative.
  void inc(const std::string& name, const Labels& labels = {}, double by = 1);
  // Gauges only.
  void set(const std::string& name, const Labels& labels, double value);
  // Histograms only.
  void observe(const std::string& name, const Labels& labels, double value);

  // Drops every series of a family (so a gauge like "servers by backend and state" can be rebuilt each cycle without
  // stale series). The family stays declared.
  void clear(const std::string& name);

  // Counters and gauges: the value; histograms: the sum of observations. 0 when the family or series is absent.
  double value(const std::string& name, const Labels& labels = {}) const;
  // Histograms: how many observations. 0 when absent or not a histogram.
  uint64_t count(const std::string& name, const Labels& labels = {}) const;

  // The text exposition format 0.0.4: for each family, sorted by name, "# HELP" and "# TYPE" lines, then its series
  // sorted by labels. Histograms as NAME_bucket{...,le="..."} (cumulative, ending with le="+Inf"), NAME_sum,
  // NAME_count. A declared family with no series yet shows only its HELP and TYPE lines.
  std::string render() const;

  // How a sample value is written: integers (below 2^53 in magnitude) without exponent or decimals, others in the
  // shortest form that reads back exactly; NaN, +Inf, -Inf as Prometheus spells them.
  static std::string format_value(double v);

 private:
  enum class Type { Counter, Gauge, Histogram };
  struct Series {
    double value = 0;              // counter/gauge value; histogram sum
    uint64_t count = 0;            // histogram observation count
    std::vector<uint64_t> bucket;  // histogram: observations per bucket (not cumulative), last one is +Inf
  };
  struct Family {
    Type type = Type::Counter;
    std::string help;
    std::vector<double> buckets;  // histogram upper bounds, ascending, without +Inf
    std::map<Labels, Series> series;
  };

  static const char* type_name(Type t);
  void declare(const std::string& name, const std::string& help, Type type, std::vector<double> buckets);
  Family& family_locked(const std::string& name, const char* op);
  Series& series_locked(Family& f, const std::string& name, const Labels& labels);
  const Series* find_locked(const std::string& name, const Labels& labels) const;

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace hasg::daemon
