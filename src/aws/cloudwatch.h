// The CloudWatch call haproxy-asg makes, PutMetricData, in the Query protocol (form POST, XML answers), which
// CloudWatch still serves beside its newer JSON and CBOR protocols
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/query_client.h"
#include "util/result.h"

namespace hasg::aws {

// A StatisticSet: several samples of a value in one datum.
struct StatisticSet {
  double sample_count = 0, sum = 0, minimum = 0, maximum = 0;
  bool operator==(const StatisticSet&) const = default;
};

struct MetricDatum {
  std::string name;
  std::vector<std::pair<std::string, std::string>> dimensions;  // (Name, Value)
  std::chrono::system_clock::time_point timestamp;
  std::optional<double> value;                // Value, or
  std::optional<StatisticSet> statistics;     // StatisticValues
  std::string unit;                           // a StandardUnit: "Count", "Seconds", ...
  int storage_resolution = 60;                // 1: high resolution (kept at 1 s granularity)
  bool operator==(const MetricDatum&) const = default;
};

// AWS's limit per PutMetricData call (1,000 datums; the 1 MB body limit is far off at ~300 bytes a datum).
inline constexpr size_t kMaxDatumsPerCall = 1000;

// The form parameters of one PutMetricData call (public for tests): Namespace, then
// MetricData.member.N.{MetricName, Dimensions.member.M.{Name,Value}, Timestamp, Value | StatisticValues.{SampleCount,
// Sum,Minimum,Maximum}, Unit, StorageResolution}.
QueryParams put_metric_data_params(const std::string& metric_namespace, const std::vector<MetricDatum>& datums);

// Sends the datums in as few calls as the limit allows. Stops at the first failed call: the Error says which, and
// `sent` (when given) how many datums were accepted before it.
Status put_metric_data(QueryClient& client, const std::string& metric_namespace,
                       const std::vector<MetricDatum>& datums, size_t* sent = nullptr);

}  // namespace hasg::aws
