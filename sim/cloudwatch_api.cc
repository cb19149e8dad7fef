// CloudWatch's Query API (version 2010-08-01): PutMetricData and GetMetricStatistics, with AWS's validation of what
// haproxy-asg and the SDKs send and AWS's answer shapes (botocore's cloudwatch service model: protocol "query",
// xmlNamespace http://monitoring.amazonaws.com/doc/2010-08-01/, errors InvalidParameterValue,
// InvalidParameterCombination, MissingParameter, InternalServiceError).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <pugixml.hpp>
#include <set>

#include "aws/clock.h"
#include "sim/service.h"

namespace hasg::sim {

namespace {

constexpr const char* kCwNs = "http://monitoring.amazonaws.com/doc/2010-08-01/";
constexpr size_t kMaxDatums = 1000;  // "The array can include no more than 1000 metrics per call."
const std::set<std::string> kUnits = {
    "Seconds",          "Microseconds",      "Milliseconds",     "Bytes",           "Kilobytes",
    "Megabytes",        "Gigabytes",         "Terabytes",        "Bits",            "Kilobits",
    "Megabits",         "Gigabits",          "Terabits",         "Percent",         "Count",
    "Bytes/Second",     "Kilobytes/Second",  "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second",      "Kilobits/Second",   "Megabits/Second",  "Gigabits/Second", "Terabits/Second",
    "Count/Second",     "None"};

bool parse_double(const std::string& s, double& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

struct Bad {
  std::string code, message;
};

class CloudWatchApi : public Service {
 public:
  explicit CloudWatchApi(SimState& state) : Service(state) {
    on("PutMetricData", [this](Call& c) { return put_metric_data(c); });
    on("GetMetricStatistics", [this](Call& c) { return get_metric_statistics(c); });
  }

  std::string signing_name() const override { return "monitoring"; }
  Answer error(const Call&, int status, const std::string& code, const std::string& message) const override {
    return query_error(kCwNs, status, code, message);
  }
  Answer throttled(const Call& c) const override { return error(c, 400, "Throttling", "Rate exceeded"); }
  Answer internal_error(const Call& c) const override {
    return error(c, 500, "InternalServiceError", "Internal service error.");
  }

 private:
  Answer bad(const Call& c, const Bad& b) const { return error(c, 400, b.code, b.message); }
  static Bad invalid(const std::string& message) { return {"InvalidParameterValue", message}; }
  static Bad missing(const std::string& name) {
    return {"MissingParameter", "The parameter " + name + " is required."};
  }

  // Dimensions.member.N.{Name,Value} under `prefix`, sorted by name (CloudWatch's identity of a metric).
  static std::optional<Bad> dimensions(const Params& p, const std::string& prefix,
                                       std::vector<std::pair<std::string, std::string>>& out) {
    for (int k = 1;; ++k) {
      std::string d = prefix + "Dimensions.member." + std::to_string(k) + ".";
      auto name = param(p, d + "Name");
      auto value = param(p, d + "Value");
      if (name.empty() && value.empty()) break;
      if (name.empty()) return missing(d + "Name");
      if (value.empty()) return missing(d + "Value");
      if (k > 30) return invalid("The collection " + prefix + "Dimensions must not have a size greater than 30.");
      out.emplace_back(name, value);
    }
    std::sort(out.begin(), out.end());
    return std::nullopt;
  }

  Answer put_metric_data(const Call& c) {
    const Params& p = c.params;
    auto ns = param(p, "Namespace");
    if (ns.empty()) return bad(c, missing("Namespace"));
    if (ns.starts_with("AWS/") || ns.size() > 255)
      return bad(c, invalid("The value " + ns + " for parameter Namespace is invalid."));
    std::vector<MetricPoint> points;
    auto now = std::chrono::system_clock::now();
    for (size_t i = 1;; ++i) {
      std::string m = "MetricData.member." + std::to_string(i) + ".";
      bool any = std::any_of(p.begin(), p.end(), [&](const auto& kv) { return kv.first.starts_with(m); });
      if (!any) break;
      if (i > kMaxDatums)
        return bad(c, invalid("The collection MetricData must not have a size greater than 1000."));
      MetricPoint pt;
      pt.metric_namespace = ns;
      pt.name = param(p, m + "MetricName");
      if (pt.name.empty()) return bad(c, missing(m + "MetricName"));
      if (auto b = dimensions(p, m, pt.dimensions)) return bad(c, *b);
      pt.timestamp = now;
      if (auto ts = param(p, m + "Timestamp"); !ts.empty()) {
        auto t = aws::parse_iso8601_utc(ts);
        if (!t) return bad(c, invalid("The value " + ts + " for parameter " + m + "Timestamp is invalid."));
        // CloudWatch accepts data up to two weeks old and two hours ahead.
        if (*t < now - std::chrono::hours(24 * 14) || *t > now + std::chrono::hours(2))
          return bad(c, invalid("The parameter " + m + "Timestamp must specify a time no more than two weeks in "
                                "the past or two hours in the future."));
        pt.timestamp = *t;
      }
      auto value = param(p, m + "Value");
      bool has_stats = std::any_of(p.begin(), p.end(),
                                   [&](const auto& kv) { return kv.first.starts_with(m + "StatisticValues."); });
      if (!value.empty() && has_stats)
        return bad(c, {"InvalidParameterCombination",
                       "The parameters " + m + "Value and " + m +
                           "StatisticValues are mutually exclusive and you have specified both."});
      if (has_stats) {
        const char* fields[] = {"SampleCount", "Sum", "Minimum", "Maximum"};
        double v[4] = {0, 0, 0, 0};
        for (int f = 0; f < 4; ++f) {
          auto key = m + "StatisticValues." + fields[f];
          auto text = param(p, key);
          if (text.empty()) return bad(c, missing(key));
          if (!parse_double(text, v[f])) return bad(c, invalid("The value " + text + " for parameter " + key +
                                                              " is invalid."));
        }
        if (v[0] <= 0) return bad(c, invalid("The parameter " + m + "StatisticValues.SampleCount must be greater "
                                             "than 0."));
        if (v[2] > v[3]) return bad(c, invalid("The parameter " + m + "StatisticValues.Minimum must be less than "
                                              "or equal to " + m + "StatisticValues.Maximum."));
        pt.sample_count = v[0];
        pt.sum = v[1];
        pt.minimum = v[2];
        pt.maximum = v[3];
      } else {
        double v = 0;  // a datum without Value or StatisticValues is stored as 0, as CloudWatch does
        if (!value.empty() && !parse_double(value, v))
          return bad(c, invalid("The value " + value + " for parameter " + m + "Value is invalid."));
        pt.sum = pt.minimum = pt.maximum = v;
      }
      pt.unit = param(p, m + "Unit");
      if (pt.unit.empty()) pt.unit = "None";
      if (!kUnits.contains(pt.unit))
        return bad(c, invalid("The value " + pt.unit + " for parameter " + m + "Unit is invalid."));
      if (auto r = param(p, m + "StorageResolution"); !r.empty()) {
        if (r != "1" && r != "60")
          return bad(c, invalid("The value " + r + " for parameter " + m + "StorageResolution is invalid. "
                                "Valid values are 1 and 60."));
        pt.storage_resolution = std::stoi(r);
      }
      points.push_back(std::move(pt));
    }
    if (points.empty()) return bad(c, missing("MetricData"));
    state_.metric_points.insert(state_.metric_points.end(), points.begin(), points.end());
    pugi::xml_document doc;
    auto root = doc.append_child("PutMetricDataResponse");
    root.append_attribute("xmlns") = kCwNs;
    root.append_child("ResponseMetadata").append_child("RequestId").text() = request_id().c_str();
    return {200, xml_string(doc)};
  }

  Answer get_metric_statistics(const Call& c) {
    const Params& p = c.params;
    for (const char* required : {"Namespace", "MetricName", "StartTime", "EndTime", "Period"})
      if (param(p, required).empty()) return bad(c, missing(required));
    auto ns = param(p, "Namespace");
    auto name = param(p, "MetricName");
    std::vector<std::pair<std::string, std::string>> dims;
    if (auto b = dimensions(p, "", dims)) return bad(c, *b);
    auto start = aws::parse_iso8601_utc(param(p, "StartTime"));
    auto end = aws::parse_iso8601_utc(param(p, "EndTime"));
    if (!start) return bad(c, invalid("The value " + param(p, "StartTime") + " for parameter StartTime is invalid."));
    if (!end) return bad(c, invalid("The value " + param(p, "EndTime") + " for parameter EndTime is invalid."));
    if (*end <= *start) return bad(c, invalid("The parameter StartTime must be less than the parameter EndTime."));
    int period = 0;
    try {
      period = std::stoi(param(p, "Period"));
    } catch (...) {
      period = 0;
    }
    // "If the StartTime parameter specifies a time stamp that is greater than 3 hours ago, you must specify the
    // period as follows or no data points in that time range is returned": 1, 5, 10, 30 or a multiple of 60.
    if (period < 1 || (period % 60 != 0 && period != 1 && period != 5 && period != 10 && period != 30))
      return bad(c, invalid("The parameter Period must be 1, 5, 10, 30, or a multiple of 60."));
    auto stats = list_param(p, "Statistics.member");
    if (stats.empty()) return bad(c, {"InvalidParameterCombination",
                                      "Must specify either Statistics or ExtendedStatistics, but not both."});
    static const std::set<std::string> kStats = {"SampleCount", "Average", "Sum", "Minimum", "Maximum"};
    for (const auto& s : stats)
      if (!kStats.contains(s))
        return bad(c, invalid("The value " + s + " for parameter Statistics.member is invalid."));
    auto unit = param(p, "Unit");

    struct Bucket {
      double count = 0, sum = 0, min = 0, max = 0;
      std::string unit;
    };
    std::map<std::chrono::system_clock::time_point, Bucket> buckets;
    auto step = std::chrono::seconds(period);
    for (const auto& pt : state_.metric_points) {
      if (pt.metric_namespace != ns || pt.name != name || pt.dimensions != dims) continue;
      if (!unit.empty() && pt.unit != unit) continue;
      if (pt.timestamp < *start || pt.timestamp >= *end) continue;
      auto k = *start + ((pt.timestamp - *start) / step) * step;
      auto& b = buckets[k];
      if (b.count == 0) {
        b.min = pt.minimum;
        b.max = pt.maximum;
      } else {
        b.min = std::min(b.min, pt.minimum);
        b.max = std::max(b.max, pt.maximum);
      }
      b.count += pt.sample_count;
      b.sum += pt.sum;
      b.unit = pt.unit;
    }
    pugi::xml_document doc;
    auto root = doc.append_child("GetMetricStatisticsResponse");
    root.append_attribute("xmlns") = kCwNs;
    auto result = root.append_child("GetMetricStatisticsResult");
    auto points = result.append_child("Datapoints");
    auto number = [](double v) { return fmt_double(v); };
    for (const auto& [t, b] : buckets) {
      auto m = points.append_child("member");
      m.append_child("Timestamp").text() = iso8601(t).c_str();
      for (const auto& s : stats) {
        double v = s == "SampleCount" ? b.count
                   : s == "Sum"       ? b.sum
                   : s == "Minimum"   ? b.min
                   : s == "Maximum"   ? b.max
                                      : b.sum / b.count;
        m.append_child(s.c_str()).text() = number(v).c_str();
      }
      m.append_child("Unit").text() = b.unit.c_str();
    }
    result.append_child("Label").text() = name.c_str();
    root.append_child("ResponseMetadata").append_child("RequestId").text() = request_id().c_str();
    return {200, xml_string(doc)};
  }

  static std::string fmt_double(double v) {
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, ec == std::errc() ? p : buf);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";  // CloudWatch writes doubles as 12.0
    return s;
  }
};

}  // namespace

std::unique_ptr<Service> make_cloudwatch_api(SimState& state) { return std::make_unique<CloudWatchApi>(state); }

}  // namespace hasg::sim
