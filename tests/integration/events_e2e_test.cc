// Issue 8 item 5 end to end: `events: {queue_url}` with the group's hook notifications and EventBridge events in a
// simulated SQS queue. With a 30 s interval, a scale-in's Terminating:Wait is drained and completed within a second
// or two of the event; duplicate, out-of-order, malformed, foreign and test messages all end deleted, are counted
// by kind and outcome, and never crash the daemon.
#include <nlohmann/json.hpp>

#include "hook_rig.h"

namespace hasg::test {
namespace {

class EventsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaproxyFixture::available()) GTEST_SKIP() << "haproxy is not installed";
  }
};

std::string lifecycle_notification(const std::string& group, const std::string& instance) {
  return nlohmann::json{{"Origin", "AutoScalingGroup"},
                        {"Destination", "EC2"},
                        {"Service", "AWS Auto Scaling"},
                        {"Time", "2026-12-01T14:00:00.000Z"},
                        {"AccountId", "123456789012"},
                        {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"},
                        {"RequestId", "5b1a0c6e-0000-4000-8000-000000000001"},
                        {"LifecycleActionToken", "3f9c4a2b-0000-4000-8000-000000000002"},
                        {"EC2InstanceId", instance},
                        {"LifecycleHookName", "drain"},
                        {"AutoScalingGroupName", group}}
      .dump();
}

std::string launch_successful(const std::string& group, const std::string& instance) {
  return nlohmann::json{{"version", "0"},
                        {"id", "7bf73129-0000-4000-8000-000000000003"},
                        {"detail-type", "EC2 Instance Launch Successful"},
                        {"source", "aws.autoscaling"},
                        {"account", "123456789012"},
                        {"time", "2026-12-01T13:00:00Z"},
                        {"region", "us-east-1"},
                        {"resources", nlohmann::json::array()},
                        {"detail",
                         {{"StatusCode", "InProgress"},
                          {"AutoScalingGroupName", group},
                          {"EC2InstanceId", instance}}}}
      .dump();
}

TEST_F(EventsE2E, AScaleInIsCompletedWithinASecondOrTwoAndEveryMessageEndsDeleted) {
  HookRigOptions o;
  o.net = 75;
  o.interval = "30s";  // polling is only the safety net here
  o.terminating = 300ms;
  o.backend_yaml = "    lifecycle_hooks:\n      terminating: drain\n";
  HookRig r(o);
  // The queue URL carries the simulator's port: the events key is added to the YAML once the queue exists.
  auto url = r.sim().create_queue("events");
  ASSERT_TRUE(url.ok());
  ASSERT_TRUE(r.sim().route_events_to_queue("events").ok());
  r.put_hook("drain", sim::kTerminatingTransition, 3600, r.sim().queue_arn("events"));
  write_file(r.yaml_path(), read_file(r.yaml_path()) + "events:\n  queue_url: " + *url + "\n");
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged() && r.rig().ready_servers().size() == 2; })) << r.log();

  auto queue_empty = [&] {
    auto m = r.sim().queue_messages("events");
    return m.has_value() && m->empty();
  };
  auto messages = [&](const std::string& kind, const std::string& outcome) {
    return r.metric("haproxy_asg_event_messages_total", {{"kind", kind}, {"outcome", outcome}});
  };
  // The hook's test notification (sent when the hook was put) is read and deleted.
  ASSERT_TRUE(wait_until([&] { return queue_empty() && messages("test-notification", "test") == 1; }, 5s))
      << r.log();

  const std::string leaving = r.newest();
  ASSERT_TRUE(r.sim().set_desired("app", 1).ok());
  ASSERT_TRUE(wait_until([&] { return r.completed(leaving); }, 5s)) << r.log();
  auto act = *r.action(leaving);
  EXPECT_EQ(act.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(act.result, "CONTINUE");
  const double waited_ms = ms_between(act.entered_wait, *act.completed);
  EXPECT_LT(waited_ms, 2000) << "event -> drain -> 0 sessions -> removed -> completed, far below the 30 s interval";
  EXPECT_FALSE(r.rig().haproxy_servers().contains(leaving));
  ASSERT_TRUE(wait_until(queue_empty, 5s)) << "every message about the scale-in deleted once its cycle succeeded";
  EXPECT_GE(messages("lifecycle-action", "trigger"), 1);
  EXPECT_GE(r.metric("haproxy_asg_event_to_applied_seconds_count"), 1);
  const double triggers = messages("lifecycle-action", "trigger");

  // Now what a real queue also delivers: the same notification twice (duplicates), a late launch event about an
  // instance long gone (out of order), garbage, another group's notification, and another test notification.
  const std::string stay = *r.rig().ready_servers().begin();
  for (const std::string& body : {lifecycle_notification("app", leaving), lifecycle_notification("app", leaving),
                                  launch_successful("app", leaving), std::string("garbage {not json"),
                                  lifecycle_notification("other-group", "i-0123456789abcdef0"),
                                  std::string(R"({"AccountId":"123456789012","RequestId":"r-1","AutoScalingGroupARN":)"
                                              R"("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x",)"
                                              R"("AutoScalingGroupName":"app","Service":"AWS Auto Scaling",)"
                                              R"("Event":"autoscaling:TEST_NOTIFICATION","Time":"2026-12-01T14:00:00Z"})")}) {
    auto sent = r.send_message(*url, body);
    ASSERT_EQ(sent.status, 200) << sent.body;
  }
  ASSERT_TRUE(wait_until(
      [&] {
        return queue_empty() && messages("malformed", "malformed") == 1 && messages("lifecycle-action", "foreign") == 1 &&
               messages("test-notification", "test") == 2 && messages("lifecycle-action", "trigger") >= triggers + 2 &&
               messages("launch-successful", "trigger") >= 1;
      },
      8s))
      << r.http("/metrics").out << r.log();
  // Triggers, never truth: the stale messages changed nothing and completed nothing again.
  EXPECT_EQ(r.sim().calls("CompleteLifecycleAction"), 1u);
  EXPECT_EQ(r.rig().ready_servers(), std::set<std::string>{stay});
  EXPECT_EQ(r.metric("haproxy_asg_cycles_total", {{"outcome", "error"}}), -1) << r.log();
  EXPECT_EQ(r.metric("haproxy_asg_event_errors_total"), -1) << r.log();
  EXPECT_TRUE(r.daemon().alive());
  EXPECT_EQ(r.http("/healthz").exit_code, 0);
  EXPECT_EQ(r.timeouts(), 0);

  // SIGTERM stops it cleanly, also with a 20 s long poll open on the queue.
  const auto stopping = SteadyClock::now();
  r.daemon().signal(SIGTERM);
  EXPECT_EQ(r.daemon().wait(10s), 0) << r.log();
  EXPECT_LT(ms_between(stopping, SteadyClock::now()), 2000) << r.log();
}

// An operator stops a member: Auto Scaling still says InService and Healthy (its health check notices later), and
// discovery asks EC2 about a running, healthy member only once. The EC2 state-change event makes discovery ask
// again: the member leaves HAProxy within a second or two, under a 30 s interval.
TEST_F(EventsE2E, AMemberEc2SaysIsStoppingLeavesWithinSecondsThroughItsEvent) {
  HookRigOptions o;
  o.net = 78;
  o.interval = "30s";
  HookRig r(o);
  auto url = r.sim().create_queue("events");
  ASSERT_TRUE(url.ok());
  ASSERT_TRUE(r.sim().route_events_to_queue("events").ok());
  write_file(r.yaml_path(), read_file(r.yaml_path()) + "events:\n  queue_url: " + *url + "\n");
  r.start_haproxy();
  r.start_daemon();
  // EC2's events do not name a group: one about an instance is acted on once a cycle has seen it a member.
  ASSERT_TRUE(wait_until([&] {
    return r.converged() && r.rig().ready_servers().size() == 2 &&
           r.metric("haproxy_asg_cycles_total", {{"outcome", "ok"}}) >= 1;
  })) << r.log();
  auto queue_empty = [&] {
    auto m = r.sim().queue_messages("events");
    return m.has_value() && m->empty();
  };

  const std::string stopped = r.newest();
  const auto at = SteadyClock::now();
  ASSERT_TRUE(r.sim().set_ec2_state(stopped, "stopping").ok());
  ASSERT_TRUE(wait_until([&] { return !r.rig().haproxy_servers().contains(stopped); }, 5s)) << r.log();
  EXPECT_LT(ms_between(at, SteadyClock::now()), 3000) << "the event, not the 30 s interval";
  EXPECT_EQ(r.rig().ready_servers().size(), 1u);
  EXPECT_GE(r.metric("haproxy_asg_event_messages_total", {{"kind", "ec2-state-change"}, {"outcome", "trigger"}}), 1);
  EXPECT_NE(r.log().find(stopped), std::string::npos);
  ASSERT_TRUE(wait_until(queue_empty, 5s)) << "the event deleted once its cycle succeeded";

  // Started again: back in HAProxy through its `running` event.
  ASSERT_TRUE(r.sim().set_ec2_state(stopped, "running").ok());
  ASSERT_TRUE(wait_until([&] { return r.rig().ready_servers().contains(stopped); }, 5s)) << r.log();
  EXPECT_EQ(r.rig().ready_servers().size(), 2u);
  EXPECT_EQ(r.metric("haproxy_asg_cycles_total", {{"outcome", "error"}}), -1) << r.log();
}

TEST_F(EventsE2E, AMessageWhoseCycleFailedStaysUntilACycleSucceeds) {
  HookRigOptions o;
  o.net = 76;
  HookRig r(o);
  auto url = r.sim().create_queue("events");
  ASSERT_TRUE(url.ok());
  write_file(r.yaml_path(), read_file(r.yaml_path()) + "events:\n  queue_url: " + *url + "\n");
  r.start_haproxy();
  r.start_daemon();
  ASSERT_TRUE(wait_until([&] { return r.converged(); })) << r.log();

  // Auto Scaling fails from now on: the cycle the message triggers fails, and the message must not be deleted.
  r.sim().inject({"DescribeAutoScalingGroups", sim::Fault::Kind::ServerError, -1, 0});
  ASSERT_EQ(r.send_message(*url, lifecycle_notification("app", r.newest())).status, 200);
  ASSERT_TRUE(wait_until([&] {
    return r.metric("haproxy_asg_event_messages_total", {{"kind", "lifecycle-action"}, {"outcome", "trigger"}}) == 1;
  }, 5s)) << r.log();
  const double failed_then = std::max(0.0, r.metric("haproxy_asg_cycles_total", {{"outcome", "error"}}));
  ASSERT_TRUE(wait_until([&] { return r.metric("haproxy_asg_cycles_total", {{"outcome", "error"}}) >= failed_then + 1; },
                         10s))
      << r.log();
  auto held = r.sim().queue_messages("events");
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->size(), 1u) << "kept while the cycles it triggers fail";

  r.sim().clear_faults();
  ASSERT_TRUE(wait_until([&] {
    auto m = r.sim().queue_messages("events");
    return m && m->empty();
  }, 15s)) << "deleted once a cycle succeeded\n" << r.log();
  EXPECT_TRUE(r.daemon().alive());
}

}  // namespace
}  // namespace hasg::test
