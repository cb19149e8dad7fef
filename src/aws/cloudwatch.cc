#include "aws/cloudwatch.h"

#include <fmt/format.h>

#include <algorithm>

#include "aws/clock.h"

namespace hasg::aws {

namespace {

// The shortest text that reads back as the same double ("12", "0.0375").
std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

QueryParams put_metric_data_params(const std::string& metric_namespace, const std::vector<MetricDatum>& datums) {
  QueryParams p;
  p.emplace_back("Namespace", metric_namespace);
  for (size_t i = 0; i < datums.size(); ++i) {
    const auto& d = datums[i];
    std::string m = "MetricData.member." + std::to_string(i + 1) + ".";
    p.emplace_back(m + "MetricName", d.name);
    for (size_t k = 0; k < d.dimensions.size(); ++k) {
      std::string dim = m + "Dimensions.member." + std::to_string(k + 1) + ".";
      p.emplace_back(dim + "Name", d.dimensions[k].first);
      p.emplace_back(dim + "Value", d.dimensions[k].second);
    }
    p.emplace_back(m + "Timestamp", format_iso8601_utc_ms(d.timestamp));
    if (d.statistics) {
      p.emplace_back(m + "StatisticValues.SampleCount", number(d.statistics->sample_count));
      p.emplace_back(m + "StatisticValues.Sum", number(d.statistics->sum));
      p.emplace_back(m + "StatisticValues.Minimum", number(d.statistics->minimum));
      p.emplace_back(m + "StatisticValues.Maximum", number(d.statistics->maximum));
    } else {
      p.emplace_back(m + "Value", number(d.value.value_or(0)));
    }
    if (!d.unit.empty()) p.emplace_back(m + "Unit", d.unit);
    p.emplace_back(m + "StorageResolution", std::to_string(d.storage_resolution));
  }
  return p;
}

Status put_metric_data(QueryClient& client, const std::string& metric_namespace,
                       const std::vector<MetricDatum>& datums, size_t* sent) {
  if (sent != nullptr) *sent = 0;
  for (size_t start = 0; start < datums.size(); start += kMaxDatumsPerCall) {
    size_t end = std::min(datums.size(), start + kMaxDatumsPerCall);
    std::vector<MetricDatum> batch(datums.begin() + static_cast<std::ptrdiff_t>(start),
                                   datums.begin() + static_cast<std::ptrdiff_t>(end));
    auto r = client.call("PutMetricData", put_metric_data_params(metric_namespace, batch));
    if (!r) return r.error();
    if (sent != nullptr) *sent = end;
  }
  return Ok{};
}

}  // namespace hasg::aws
