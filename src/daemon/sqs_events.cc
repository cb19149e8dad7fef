#include "daemon/sqs_events.h"

#include <spdlog/spdlog.h>

#include <random>
#include <utility>

#include "aws/sqs.h"
#include "daemon/aws_faults.h"
#include "util/backoff.h"

namespace hasg::daemon {

namespace {
constexpr std::chrono::seconds kSecondLook{1};
}  // namespace

EventVerdict judge_event(const core::EventMessage& m, const std::set<std::string>& groups,
                         const std::set<std::string>& instances) {
  using core::EventKind;
  switch (m.kind) {
    case EventKind::TestNotification: return {false, "test"};
    case EventKind::Malformed: return {false, "malformed"};
    case EventKind::Unknown: return {false, "ignored"};
    case EventKind::LifecycleAction:
    case EventKind::LaunchSuccessful:
    case EventKind::TerminateSuccessful:
      return groups.contains(m.group) ? EventVerdict{true, "trigger"} : EventVerdict{false, "foreign"};
    case EventKind::Ec2StateChange:
      // EC2's events do not name the group: one about an instance of a configured group (as last seen) triggers,
      // and so does an unknown instance starting (it may be joining one of them).
      if (instances.contains(m.instance_id) || m.ec2_state == "pending" || m.ec2_state == "running")
        return {true, "trigger"};
      return {false, "foreign"};
  }
  return {false, "ignored"};
}

SqsEvents::SqsEvents(aws::JsonClient& poll, aws::JsonClient& acks, std::string queue_url,
                     std::set<std::string> groups, Metrics& metrics, std::function<void()> cancel)
    : client_(poll),
      acks_(acks),
      queue_url_(std::move(queue_url)),
      groups_(std::move(groups)),
      metrics_(metrics),
      cancel_(std::move(cancel)) {
  metrics_.counter("haproxy_asg_event_messages_total", "Event queue messages by kind and outcome (trigger, test, "
                                                       "foreign, ignored, malformed).");
  metrics_.histogram("haproxy_asg_event_to_applied_seconds",
                     "From an event message's arrival to the end of the successful cycle it triggered.",
                     {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30});
  metrics_.counter("haproxy_asg_event_errors_total", "Failed ReceiveMessage / DeleteMessageBatch calls.");
}

SqsEvents::~SqsEvents() { stop(); }

Status SqsEvents::start(WakeFn wake) {
  wake_ = std::move(wake);
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  poller_ = std::thread([this] { poll_loop(); });
  deleter_ = std::thread([this] { delete_loop(); });
  spdlog::info("listening for events on {}", queue_url_);
  return Ok{};
}

void SqsEvents::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  // The poller may sit in a 20 s long poll: cancel it rather than wait.
  if (poller_.joinable()) {
    if (cancel_) cancel_();
    poller_.join();
  }
  if (deleter_.joinable()) deleter_.join();
}

void SqsEvents::poll_loop() {
  std::mt19937_64 rng(std::random_device{}());
  int failures = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    auto got = aws::receive_messages(client_, queue_url_, 10, 20);
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    if (!got) {
      metrics_.inc("haproxy_asg_event_errors_total", {{"operation", "ReceiveMessage"}});
      // The fault book logs the outage once (aws.sqs, or aws.credentials) and its end.
      if (failures++ == 0)
        spdlog::log(logged_as_fault(got.error()) ? spdlog::level::debug : spdlog::level::warn,
                    "events: {}; polling at `interval` goes on, retrying", got.error().message);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, full_jitter(std::chrono::seconds(1), std::chrono::seconds(30), failures, rng),
                   [&] { return stop_; });
      continue;
    }
    if (failures > 0) spdlog::debug("events: receiving again after {} failed attempt(s)", failures);
    failures = 0;
    std::vector<std::string> drop;
    std::string first_reason;
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      for (const auto& msg : *got) {
        core::EventMessage m = core::parse_event_message(msg.body);
        EventVerdict v = judge_event(m, groups_, instances_);
        // Whatever the verdict (a member cached by a cycle still running is not in instances_ yet): forgetting an
        // instance discovery never cached costs nothing.
        if (m.kind == core::EventKind::Ec2StateChange) changed_.try_emplace(m.instance_id, now);
        metrics_.inc("haproxy_asg_event_messages_total", {{"kind", core::to_string(m.kind)}, {"outcome", v.outcome}});
        if (v.wake) {
          // A duplicate keeps the first arrival (and the newest receipt handle, which is the one that deletes).
          auto [it, fresh] = held_.emplace(msg.message_id, Held{msg.receipt_handle, now});
          if (!fresh) it->second.receipt_handle = msg.receipt_handle;
          if (first_reason.empty()) first_reason = "event: " + m.reason;
          spdlog::debug("events: {}", m.reason);
        } else {
          if (v.outcome == "malformed")
            spdlog::warn("events: deleting a message that is not understood ({}): {}", m.reason,
                         msg.body.substr(0, 200));
          else
            spdlog::info("events: deleting a message with nothing to do ({}): {}", v.outcome, m.reason);
          drop.push_back(msg.receipt_handle);
        }
      }
    }
    if (!first_reason.empty()) {
      wake_(first_reason);
      // A second look a second later: AWS's describe calls may not show yet what its event announced.
      std::lock_guard lock(mu_);
      if (!rewake_at_) rewake_at_ = std::chrono::steady_clock::now() + kSecondLook;
      cv_.notify_all();
    }
    if (!drop.empty()) delete_now(std::move(drop));
  }
}

std::set<std::string> SqsEvents::take_changed_instances(std::chrono::steady_clock::time_point now) {
  // Each is handed out until its second look is due: EC2's answer may still say `running` at the first cycle after
  // the event (and be cached again), not a second later.
  std::set<std::string> out;
  std::lock_guard lock(mu_);
  for (auto it = changed_.begin(); it != changed_.end();) {
    out.insert(it->first);
    it = now >= it->second + kSecondLook ? changed_.erase(it) : std::next(it);
  }
  return out;
}

void SqsEvents::cycle_ended(const CycleEnd& end) {
  // On the loop thread: only bookkeeping here; the deletions run on the deleter's thread.
  std::lock_guard lock(mu_);
  if (end.report != nullptr) {
    instances_.clear();
    for (const auto& g : end.report->groups)
      for (const auto& mem : g.members) instances_.insert(mem.instance_id);
  }
  if (end.report == nullptr) return;
  const auto finished = std::chrono::steady_clock::now();
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.received < end.started) {
      to_delete_.push_back(it->second.receipt_handle);
      latencies_.push_back(std::chrono::duration<double>(finished - it->second.received).count());
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  if (!to_delete_.empty()) cv_.notify_all();
}

void SqsEvents::delete_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    auto ready = [&] {
      return stop_ || !to_delete_.empty() || (rewake_at_ && std::chrono::steady_clock::now() >= *rewake_at_);
    };
    if (rewake_at_)
      cv_.wait_until(lock, *rewake_at_, ready);
    else
      cv_.wait(lock, ready);
    if (stop_) return;
    if (rewake_at_ && std::chrono::steady_clock::now() >= *rewake_at_) {
      rewake_at_.reset();
      lock.unlock();
      wake_("event: a second look");
      lock.lock();
    }
    if (to_delete_.empty()) continue;
    auto handles = std::move(to_delete_);
    auto latencies = std::move(latencies_);
    to_delete_.clear();
    latencies_.clear();
    lock.unlock();
    for (double sec : latencies) metrics_.observe("haproxy_asg_event_to_applied_seconds", {}, sec);
    delete_now(std::move(handles));
    lock.lock();
  }
}

void SqsEvents::set_groups(std::set<std::string> groups) {
  std::lock_guard lock(mu_);
  groups_ = std::move(groups);
}

void SqsEvents::delete_now(std::vector<std::string> handles) {
  auto r = aws::delete_message_batch(acks_, queue_url_, handles);
  if (!r) {
    metrics_.inc("haproxy_asg_event_errors_total", {{"operation", "DeleteMessageBatch"}});
    // Not deleted: the message becomes visible again and triggers a harmless extra cycle.
    spdlog::log(logged_as_fault(r.error()) ? spdlog::level::debug : spdlog::level::warn, "events: {}",
                r.error().message);
    return;
  }
  for (const auto& f : r->failed) {
    metrics_.inc("haproxy_asg_event_errors_total", {{"operation", "DeleteMessageBatch"}});
    spdlog::warn("events: message not deleted: {}: {}", f.code, f.message);
  }
}

}  // namespace hasg::daemon
