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

// The listener. An edge stays failing while an operation AWS denies under its key has not worked since (an edge
// whose CreateTags is denied is not healed by its DescribeTags working); passing failures (throttling, 5xx,
// timeouts) end with any answer of the edge, since the call that failed may never be made again; credentials are
// healed by any call.
class AwsFaultReporter {
 public:
  explicit AwsFaultReporter(FaultBook& book) : book_(book) {}
  void operator()(const aws::CallOutcome& outcome);
  // Discovery as a whole worked: aws.autoscaling and aws.ec2 are resolved here, not by one call's success (the first
  // page of a listing working says nothing of a later page that fails every cycle).
  void discovery_ok();

 private:
  FaultBook& book_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, bool>> failing_;  // key -> operation failing under it -> denied
};

}  // namespace hasg::daemon
