// Which AWS edge fails, told to the fault book: every finished AWS call (ApiStats' listener, on whichever thread
// made it: the loop, the SQS poller, the CloudWatch publisher) reports a failure under its edge's key and resolves
// it on the next success, so each edge's outage is logged once with what to do, and /healthz names it.
//
// Keys (README "Faults and what haproxy-asg does"):
//   aws.autoscaling  DescribeAutoScalingGroups (discovery)
//   aws.ec2          DescribeInstances (discovery's addresses, the node's own instance)
//   aws.lifecycle    CompleteLifecycleAction, RecordLifecycleActionHeartbeat, DescribeLifecycleHooks,
//                    SetInstanceHealth
//   aws.cluster      CreateTags, DescribeTags (the drain records of a cluster of load balancers)
//   aws.sqs          ReceiveMessage, DeleteMessageBatch (events)
//   aws.cloudwatch   PutMetricData
//   aws.credentials  any call whose credentials are missing or refused (the key is the chain's, not an edge's)
//   aws.imds         this instance's id from IMDS (cluster.node_id's default); reported by the daemon itself
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "aws/service_call.h"
#include "daemon/fault_book.h"

namespace hasg::daemon {

// The fault-book key of an AWS call: see the table above; "aws.<signing name>" for a call not in it.
std::string aws_fault_key(std::string_view signing_name, std::string_view operation);

struct AwsFault {
  std::string key;
  std::string remedy;
};

// What a failed call means for the operator, by its error code; nullopt when it is no fault of the edge: AWS
// answered and refused this one request for a reason its caller handles (a hook already completed, a validation
// error), which neither reports nor resolves anything.
std::optional<AwsFault> classify_aws_failure(const aws::ServiceEndpoint& endpoint, std::string_view operation,
                                             const Error& error);

// Whether a failed AWS call is logged by the fault book (once, when its edge starts failing): then the caller's
// own line about it is debug, or a lasting outage would write one line per retry.
bool logged_as_fault(const Error& error);

// The listener. An edge stays failing while an operation that failed under its key has not worked since: another
// operation of the edge working says nothing of it (CreateTags throttled or denied while DescribeTags works, every
// cycle). A passing failure (throttling, 5xx, timeouts) also ends once its operation has not been called for
// `settle`: a call that may never be made again (a heartbeat whose drain ended, a completion or a report AWS applied
// although the answer came too late) cannot heal itself, and would keep the edge failing. `settle` is longer than
// the longest a call still needed waits for its retry (the interval, a backoff, a CloudWatch period). A denial stays
// until that very call works. Credentials are healed by any call.
class AwsFaultReporter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kLeastSettle{120'000};

  explicit AwsFaultReporter(FaultBook& book, std::chrono::milliseconds settle = kLeastSettle)
      : book_(book), settle_(settle) {}
  void operator()(const aws::CallOutcome& outcome) { heard(outcome, Clock::now()); }
  void heard(const aws::CallOutcome& outcome, Clock::time_point now);
  // Discovery as a whole worked: aws.autoscaling and aws.ec2 are resolved here, not by one call's success (the first
  // page of a listing working says nothing of a later page that fails every cycle).
  void discovery_ok();
  void set_settle(std::chrono::milliseconds settle);

 private:
  struct Failing {
    bool denied = false;
    Clock::time_point last;  // its last failure
  };
  void settle(Clock::time_point now);  // ends passing failures not seen for settle_; under mu_

  FaultBook& book_;
  std::mutex mu_;
  std::chrono::milliseconds settle_;
  std::map<std::string, std::map<std::string, Failing>> failing_;  // key -> operation failing under it
};

// The daemon's `settle`: longer than any call it still needs waits for its retry.
std::chrono::milliseconds settle_time(std::chrono::milliseconds interval, std::chrono::milliseconds cloudwatch_period);

}  // namespace hasg::daemon
