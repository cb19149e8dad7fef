// The simulated world every service reads and changes: groups (with their lifecycle hooks), instances (with their
// HTTP servers and lifecycle actions), SQS queues, event routing, faults, call counters, IMDS tokens and temporary
// credentials. One mutex guards it all; every member function below expects `mu` to be held by its caller.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sim/instance_fleet.h"
#include "sim/simulator.h"

namespace hasg::sim {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Instance {
  SimInstance view;
  uint64_t seq = 0;
  SteadyTime changed{};                  // when the current timed state began
  std::optional<SteadyTime> in_service;  // when it first became InService
  bool member = true;                    // still part of its group
  std::map<std::string, std::string> tags;  // EC2 tags (CreateTags / DescribeTags)
};

struct Group {
  std::string name;
  int min_size = 0;
  int max_size = 0;
  int desired = 0;
  std::string created;
  std::string arn;
  std::map<std::string, LifecycleHookSpec> hooks;  // by name; global_timeout always set
  int health_check_grace_period = 0;               // seconds (SimOptions::grace_second each)
};

// An instance waiting on one hook (active until times.completed is set).
struct LifecycleAction {
  LifecycleActionTimes times;
  SteadyTime heartbeat_deadline{};
  SteadyTime global_deadline{};
};

struct SqsMessage {
  std::string id;
  std::string body;
  std::string md5;  // MD5 of the body, hex
  std::chrono::system_clock::time_point sent;
  std::optional<std::chrono::system_clock::time_point> first_received;
  SteadyTime visible_at{};  // invisible (delayed or in flight) until then
  bool received = false;    // has been received at least once (in flight while visible_at is ahead)
  int receive_count = 0;
};

struct SqsQueue {
  std::string name;
  std::map<std::string, std::string> attributes;  // the settable ones, as given (VisibilityTimeout, ...)
  std::chrono::system_clock::time_point created;
  std::deque<SqsMessage> messages;              // oldest first
  std::map<std::string, std::string> receipts;  // receipt handle -> message id (every handle ever given)
  std::optional<SteadyTime> last_purge;
  int int_attribute(const std::string& key, int fallback) const;
};

struct TempCredentials {
  std::string secret;
  std::string token;
  std::chrono::system_clock::time_point expires;
};

class SimState {
 public:
  explicit SimState(SimOptions o);

  const SimOptions opt;
  InstanceFleet fleet;
  mutable std::mutex mu;
  std::condition_variable cv;  // wakes the ticker on stop
  std::atomic<bool> stopping{false};

  std::map<std::string, Group> groups;
  std::map<std::string, Instance> instances;  // every instance ever launched, terminated ones included
  std::vector<Fault> faults;
  std::map<std::string, uint64_t> calls;  // accepted AWS calls by action
  std::map<std::string, SteadyTime> imds_tokens;
  std::map<std::string, TempCredentials> temp_credentials;
  std::mt19937_64 rng{std::random_device{}()};
  int port = 0;  // the API's bound port (queue URLs name it)

  std::vector<LifecycleAction> actions;    // every lifecycle action, in the order they began
  std::map<std::string, SqsQueue> queues;  // by name
  std::condition_variable sqs_cv;          // a message was sent or stop() began: long polls look again
  std::vector<std::string> event_queues;   // EventBridge-like rule targets

  std::vector<HealthReport> health_reports;  // SetInstanceHealth calls accepted
  std::vector<MetricPoint> metric_points;    // PutMetricData datums accepted
  uint64_t unhealthy_replacements = 0;

  std::string uuid();  // a random UUID (version 4)

  // Instances.
  void launch(Group& g);
  void begin_termination(Instance& inst);
  void finish_termination(Instance& inst);
  void start_server(Instance& inst);
  void stop_server(Instance& inst);
  std::vector<Instance*> members_of(const std::string& group);
  Instance* member(const std::string& id);  // nullptr unless a current member of a group
  // Brings the group to its desired capacity, like the Auto Scaling service does.
  void reconcile(Group& g);
  // Moves timed states on (Pending -> InService or Pending:Wait, Pending:Proceed -> InService, Terminating and
  // Terminating:Proceed -> terminated) and times lifecycle actions out; called every 20 ms.
  void tick();
  void set_ec2_state(Instance& inst, const std::string& state);  // and its EC2 state-change event

  // Lifecycle hooks (lifecycle.cc). Errors carry AWS's code and message (ValidationError, ...).
  Status put_hook(LifecycleHookSpec hook);
  // The active action of `hook` in `group` for the instance or the token (one of them non-empty), or the
  // ValidationError AWS answers when there is none.
  Result<LifecycleAction*> active_action(const std::string& group, const std::string& hook,
                                         const std::string& instance_id, const std::string& token);
  void complete_action(LifecycleAction& action, const std::string& result, const std::string& by);
  void heartbeat(LifecycleAction& action);

  // SetInstanceHealth (health.cc): records the report; an Unhealthy one (unless ignored within the grace period)
  // marks the instance and the group replaces it through its terminating hooks. Errors carry AWS's code and message.
  Status report_health(const std::string& instance_id, const std::string& health, bool respect_grace);

  // SQS (sqs_queues.cc).
  std::string queue_url(const std::string& name) const;
  std::string queue_arn(const std::string& name) const;
  SqsQueue* queue_by_url(const std::string& url);  // nullptr: no such queue
  SqsQueue* queue_by_arn(const std::string& arn);
  std::string send_message(SqsQueue& queue, const std::string& body, int delay_seconds = 0);  // the message id
  // An EventBridge event to every routed queue.
  void emit_event(const std::string& source, const std::string& detail_type, const std::vector<std::string>& resources,
                  nlohmann::json detail);

  // The first matching fault for `action`, consumed.
  // The fault hitting this call of `action`, if any; `has_param` tells whether the call carries a parameter.
  std::optional<Fault> take_fault(const std::string& action,
                                  const std::function<bool(const std::string&)>& has_param = nullptr);

 private:
  std::string address_for(uint64_t seq) const;
  // Puts the instance in the transition's wait state with one action per matching hook; false when the group has
  // no such hook.
  bool enter_wait(Instance& inst, const std::string& transition);
  void proceed(Instance& inst, const std::string& transition, const std::string& result);
  void launch_finished(Instance& inst);  // now InService
  void emit_activity(const Instance& inst, const std::string& detail_type, const std::string& description,
                     const std::string& cause);
  void notify(const Group& g, const LifecycleHookSpec& hook, const LifecycleAction& action);
  std::string instance_arn(const std::string& id) const;
  uint64_t next_seq_ = 0;
  uint64_t id_prefix_ = 0;
};

}  // namespace hasg::sim
