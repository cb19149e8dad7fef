// The Prometheus sink: every cycle's outcome as the metrics README lists, rendered for /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "aws/query_client.h"
#include "daemon/cycle_observer.h"
#include "daemon/metrics.h"

namespace hasg::daemon {

class PrometheusSink : public CycleObserver {
 public:
  // Declares the metrics in `metrics`; `aws_stats` (may be null) is read at each render for the AWS call counters.
  PrometheusSink(Metrics& metrics, const aws::ApiStats* aws_stats);
  void cycle_ended(const CycleEnd& end) override;
  // The text for /metrics. Safe from any thread.
  std::string render();

 private:
  Metrics& m_;
  const aws::ApiStats* aws_stats_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> aws_calls_seen_;  // copied into the counter at render
};

}  // namespace hasg::daemon
