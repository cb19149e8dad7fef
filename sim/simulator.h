// The AWS simulator: the Auto Scaling and EC2 Query APIs, SQS (JSON and Query protocols) and IMDSv2 on 127.0.0.1,
// speaking AWS's wire format (SigV4 checked on every request, AWS's shapes, AWS's error documents), with a real HTTP
// server behind each simulated instance on its own loopback address, lifecycle hooks with their wait states and
// notifications, and an opt-in EventBridge-like rule delivering Auto Scaling and EC2 events to a queue. Tests embed
// it; `haproxy-asg-sim` runs it for the demo.
//
// Control: the C++ methods below, or the same over HTTP under /_sim/ (see README "Simulator").
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace hasg::sim {

struct SimOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string region = "us-east-1";
  std::string access_key_id = "AKIDSIMULATOR";
  std::string secret_access_key = "simulator-secret-key";
  // Simulated instances get 127.<instance_net>.<hi>.<lo> and, when instance_port > 0, an HTTP server there.
  int instance_net = 0;
  int instance_port = 0;
  int instance_delay_ms = 0;                 // every instance answers this slowly
  bool instance_stream = false;              // with instance_delay_ms: headers at once, the body over the delay
  int instance_delay_jitter_ms = 0;          // each answer's delay: instance_delay_ms +- up to this (uniform)
  std::chrono::milliseconds pending{0};      // Pending -> InService after this long
  std::chrono::milliseconds terminating{0};  // Terminating (or Terminating:Proceed) -> terminated after this long
  // How long one second of a lifecycle hook's HeartbeatTimeout / GlobalTimeout lasts (tests shrink it).
  std::chrono::milliseconds hook_second{1000};
  // How long one second of a group's HealthCheckGracePeriod lasts (tests shrink it).
  std::chrono::milliseconds grace_second{1000};
  std::chrono::seconds imds_credentials_lifetime{3600};
  std::string imds_role = "haproxy-asg";
  // The instance IMDS says it runs on (meta-data/instance-id): the load balancer's own, not in any group.
  // DescribeInstances describes it when asked by id, with these MetadataOptions (HttpTokens "required" or
  // "optional", HttpPutResponseHopLimit 1-64), as EC2 answers for an instance's IMDS settings.
  std::string imds_instance_id = "i-0ba1ba1ba1ba1ba10";
  std::string imds_http_tokens = "required";
  int imds_hop_limit = 2;
  std::vector<std::string> zones = {"us-east-1a", "us-east-1b", "us-east-1c"};
  uint64_t seed = 0;  // instance id prefix; 0: random
  // DescribeAutoScalingGroups and DescribeInstances answer at most this many groups / instances a page, whatever
  // MaxRecords / MaxResults asked (AWS may return fewer, with a NextToken); 0: as asked.
  int page_size = 0;
};

struct Fault {
  // Deny: the call is refused as IAM refuses an action the caller's policy does not allow (AccessDenied; EC2:
  // UnauthorizedOperation), each service in its own error shape.
  // Malformed: a 200 whose body is cut in half (not a document). Truncated: the answer announces its whole length
  // and the connection closes halfway through the body (a proxy or a network dying mid-answer).
  // MixedErrorShape: a throttling error in the document some AWS-compatible endpoints send,
  // <ErrorResponse><Errors><Error>, neither Auto Scaling's nor EC2's.
  enum class Kind { Throttle, ServerError, Slow, Malformed, Deny, Truncated, MixedErrorShape };
  // An Action name, "*" for every AWS call, or "IMDS" for the instance metadata service (never hit by "*"; there
  // Throttle, Deny and MixedErrorShape answer 503, as IMDS does when it is overwhelmed).
  std::string action = "*";
  Kind kind = Kind::Throttle;
  int count = 1;     // how many calls it hits; -1: until cleared
  int delay_ms = 0;  // for Slow
  int skip = 0;      // calls of the action let through before the fault hits (skip 1: only from the second call)
  // Only calls carrying this request parameter: "NextToken" hits every page but the first of each listing.
  std::string with_param = {};  // an initializer, so {action, kind, count} initialises it without a warning
};

struct SimInstance {
  std::string id;
  std::string group;
  std::string zone;
  std::string address;
  std::string lifecycle;  // Auto Scaling lifecycle state
  std::string health = "Healthy";
  std::string ec2_state;  // pending, running, shutting-down, terminated, stopping, stopped
  bool server_running = false;
};

// When an instance first became InService and when its server first answered a request (any request, health checks
// included), on the steady clock; for benchmarks of launch-to-traffic latency.
struct InstanceTimes {
  std::string id;
  std::string group;
  std::optional<std::chrono::steady_clock::time_point> in_service;
  std::optional<std::chrono::steady_clock::time_point> first_request;
};

inline constexpr const char* kLaunchingTransition = "autoscaling:EC2_INSTANCE_LAUNCHING";
inline constexpr const char* kTerminatingTransition = "autoscaling:EC2_INSTANCE_TERMINATING";
inline constexpr const char* kAccountId = "123456789012";

// One SetInstanceHealth call the simulator accepted, in the order they came.
struct HealthReport {
  std::string instance_id;
  std::string health;         // Healthy or Unhealthy, as reported
  bool respect_grace = true;  // ShouldRespectGracePeriod
  bool applied = false;       // false: ignored, an Unhealthy report within the group's grace period
  std::chrono::steady_clock::time_point time;
};

// One datum PutMetricData accepted (a Value is a set of one sample).
struct MetricPoint {
  std::string metric_namespace;
  std::string name;
  std::vector<std::pair<std::string, std::string>> dimensions;  // (Name, Value), sorted by name
  std::chrono::system_clock::time_point timestamp;
  double sample_count = 1, sum = 0, minimum = 0, maximum = 0;
  std::string unit;             // "None" when not given, as CloudWatch stores it
  int storage_resolution = 60;  // 1 or 60
};

// A lifecycle hook, as PutLifecycleHook takes it.
struct LifecycleHookSpec {
  std::string group;
  std::string name;
  std::string transition = kTerminatingTransition;
  int heartbeat_timeout = 3600;            // seconds (SimOptions::hook_second each), 30..7200
  std::optional<int> global_timeout;       // default min(100 * heartbeat_timeout, 172800)
  std::string default_result = "ABANDON";  // or CONTINUE
  std::string notification_target_arn;     // arn:aws:sqs:REGION:ACCOUNT:QUEUE of a simulated queue, or empty
  std::string role_arn;
  std::string notification_metadata;
};

// One lifecycle action: an instance waiting in Pending:Wait or Terminating:Wait on one hook, and how it ended.
struct LifecycleActionTimes {
  std::string instance_id;
  std::string group;
  std::string hook;
  std::string transition;
  std::string token;                                   // LifecycleActionToken
  std::chrono::steady_clock::time_point entered_wait;  // when the instance entered the wait state
  std::optional<std::chrono::steady_clock::time_point> completed;
  std::string completed_by;  // "CompleteLifecycleAction", "timeout", "terminated" (scaled in while waiting); ""
  std::string result;        // CONTINUE or ABANDON once completed
  int heartbeats = 0;        // RecordLifecycleActionHeartbeat calls accepted
};

class Simulator {
 public:
  explicit Simulator(SimOptions options = {});
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Status start();
  void stop();
  int port() const;
  std::string url() const;  // http://127.0.0.1:PORT
  const SimOptions& options() const;

  // Groups and instances.
  // `health_check_grace_period`: seconds (SimOptions::grace_second each) after an instance comes InService during
  // which SetInstanceHealth Unhealthy with ShouldRespectGracePeriod is ignored; 0 (AWS's API default) by default.
  Status create_group(const std::string& name, int desired, int min_size = 0, int max_size = 10000,
                      int health_check_grace_period = 0);
  Status set_desired(const std::string& name, int desired);
  Status set_lifecycle(const std::string& instance_id, const std::string& state);
  // As TerminateInstanceInAutoScalingGroup: the instance starts terminating through the group's terminating hooks
  // (Terminating:Wait, notifications, events) or straight to Terminating; the desired capacity drops by one when
  // `decrement_desired`, else the group launches a replacement.
  Status terminate_instance(const std::string& instance_id, bool decrement_desired);
  // Only marks the instance's health (a test's lever: no replacement). SetInstanceHealth, the API call, replaces.
  Status set_health(const std::string& instance_id, const std::string& health);
  Status set_ec2_state(const std::string& instance_id, const std::string& state);
  Status kill_server(const std::string& instance_id);
  std::vector<SimInstance> instances(const std::string& group = "") const;  // current members, by id
  std::vector<InstanceTimes> instance_times() const;  // every instance ever launched, terminated ones included, by id

  // Lifecycle hooks (the same as PutLifecycleHook, test notification included) and their actions so far, all or
  // one instance's, in the order they began.
  Status put_lifecycle_hook(const LifecycleHookSpec& hook);
  std::vector<LifecycleActionTimes> lifecycle_actions(const std::string& instance_id = "") const;

  // SQS. create_queue answers the queue URL (http://127.0.0.1:PORT/ACCOUNT/NAME); an existing queue is kept.
  Result<std::string> create_queue(const std::string& name);
  std::string queue_arn(const std::string& name) const;  // arn:aws:sqs:REGION:ACCOUNT:NAME
  // The bodies of every message in the queue, visible or in flight, oldest first (nullopt: no such queue).
  std::optional<std::vector<std::string>> queue_messages(const std::string& name) const;
  // EventBridge-like rule: from now on, Auto Scaling's lifecycle-action and launch/terminate events and EC2's
  // state-change events go to this queue as EventBridge events (more than one queue may be routed).
  Status route_events_to_queue(const std::string& queue);

  // SetInstanceHealth calls accepted so far, and how many instances the groups replaced because a report made them
  // Unhealthy.
  std::vector<HealthReport> health_reports() const;
  uint64_t unhealthy_replacements() const;

  // CloudWatch: every datum PutMetricData accepted (one namespace's, or all), in the order they came.
  std::vector<MetricPoint> metric_data(const std::string& metric_namespace = "") const;

  // Faults.
  void inject(const Fault& fault);
  void clear_faults();
  // Every temporary credential IMDS handed out expires now (AWS answers ExpiredToken to them), as when STS's clock
  // and the instance's disagree or a session is revoked early; IMDS hands out new ones on the next request.
  void expire_credentials();

  // Counters: accepted AWS calls by action (faulted ones included), and requests answered by an instance.
  uint64_t calls(const std::string& action) const;
  std::map<std::string, uint64_t> all_calls() const;
  uint64_t instance_requests(const std::string& instance_id) const;

  // A JSON snapshot of everything (what GET /_sim/state answers).
  std::string state_json() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

Result<Fault::Kind> parse_fault_kind(const std::string& s);

}  // namespace hasg::sim
