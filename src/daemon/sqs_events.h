// Events from an SQS queue (`events: {queue_url}`): the group's lifecycle-hook notifications and EventBridge events
// (aws.autoscaling, aws.ec2), long-polled (20 s) on a thread of its own with its own AWS client. A message about a
// configured group wakes a cycle at once, and another a second later (AWS's describe calls may lag its events); it
// is deleted once a cycle that started after it arrived succeeded, so a failed cycle leaves it to come back. Events are triggers, never truth: the cycle re-reads the group, so
// duplicate, late and out-of-order messages only cost a cycle. Test notifications, other groups' messages and
// malformed ones are logged and deleted at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aws/json_client.h"
#include "core/events.h"
#include "daemon/cycle_observer.h"
#include "daemon/event_source.h"
#include "daemon/metrics.h"

namespace hasg::daemon {

// What to do with one message, given the configured groups and the instances last seen in them. Pure.
struct EventVerdict {
  bool wake = false;     // ask for a cycle; delete after it succeeded
  std::string outcome;   // for the metric and the log: "trigger", "test", "foreign", "ignored", "malformed"
};
EventVerdict judge_event(const core::EventMessage& m, const std::set<std::string>& groups,
                         const std::set<std::string>& instances);

class SqsEvents : public EventSource, public CycleObserver {
 public:
  // `poll` long-polls; `acks` deletes (its own connection, so deletions never wait behind a poll).
  // `cancel` ends a long poll in flight (stop() calls it, so a stop never waits up to 20 s for the poll).
  SqsEvents(aws::JsonClient& poll, aws::JsonClient& acks, std::string queue_url, std::set<std::string> groups,
            Metrics& metrics, std::function<void()> cancel);
  ~SqsEvents() override;

  const char* name() const override { return "events (SQS)"; }
  Status start(WakeFn wake) override;
  void stop() override;
  void cycle_ended(const CycleEnd& end) override;
  // The configured groups (SIGHUP may change them).
  void set_groups(std::set<std::string> groups);
  // The instances EC2 said changed state (stopping, stopped, ...): what discovery cached about them is stale (it
  // asks EC2 about a running, healthy member only once). Taken by the loop before each cycle; each is handed out
  // until its event's second look (a second after it arrived) is past at `now`.
  std::set<std::string> take_changed_instances(std::chrono::steady_clock::time_point now);

 private:
  struct Held {
    std::string receipt_handle;
    std::chrono::steady_clock::time_point received;
  };
  void poll_loop();
  void delete_loop();
  void delete_now(std::vector<std::string> handles);

  aws::JsonClient& client_;
  aws::JsonClient& acks_;
  std::string queue_url_;
  std::set<std::string> groups_;
  Metrics& metrics_;
  WakeFn wake_;
  std::function<void()> cancel_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::set<std::string> instances_;            // members of the configured groups at the last cycle
  std::map<std::string, std::chrono::steady_clock::time_point> changed_;  // EC2 state changes: instance -> arrival
  std::map<std::string, Held> held_;           // message id -> waiting for a successful cycle
  std::vector<std::string> to_delete_;         // receipt handles
  std::vector<double> latencies_;              // event -> applied, seconds, to observe
  std::optional<std::chrono::steady_clock::time_point> rewake_at_;  // a second look after a triggering message
  std::thread poller_;
  std::thread deleter_;
};

}  // namespace hasg::daemon
