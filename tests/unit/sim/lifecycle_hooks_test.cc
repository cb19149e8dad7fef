// Lifecycle hooks in the simulator, through the Auto Scaling Query API as a client sees them: wait states, completion
// by instance id and by token, heartbeats, timeouts with the hook's default result, AWS's errors, and the
// notifications (hook target queue, EventBridge-like rule) with their JSON shapes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "sim/simulator.h"
#include "sim_client.h"
#include "support/process.h"

namespace hasg::sim {
namespace {

using namespace std::chrono_literals;
using test::find_instance;
using test::lifecycle_of;
using test::SimClient;
using test::xml_text;

bool accepts_connections(const std::string& address, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

// Bodies of the queue's messages parsed as JSON, those matching `pred`.
std::vector<nlohmann::json> messages(const Simulator& sim, const std::string& queue,
                                     const std::function<bool(const nlohmann::json&)>& pred) {
  std::vector<nlohmann::json> out;
  for (const auto& b : sim.queue_messages(queue).value_or(std::vector<std::string>{})) {
    auto j = nlohmann::json::parse(b, nullptr, false);
    if (!j.is_discarded() && pred(j)) out.push_back(j);
  }
  return out;
}

LifecycleHookSpec hook(const std::string& group, const std::string& name, const std::string& transition,
                       int heartbeat_timeout, std::optional<int> global_timeout = std::nullopt,
                       const std::string& default_result = "ABANDON") {
  LifecycleHookSpec h;
  h.group = group;
  h.name = name;
  h.transition = transition;
  h.heartbeat_timeout = heartbeat_timeout;
  h.global_timeout = global_timeout;
  h.default_result = default_result;
  return h;
}

class LifecycleHooksTest : public ::testing::Test {
 protected:
  void start(SimOptions opt = {}) {
    opt.instance_net = 213;
    if (opt.instance_port == 0) opt.instance_port = hasg::test::free_port();
    sim_ = std::make_unique<Simulator>(opt);
    ASSERT_TRUE(sim_->start().ok());
    client_ = std::make_unique<SimClient>(*sim_);
  }

  aws::HttpResponse asg(const std::string& action, const std::vector<std::pair<std::string, std::string>>& params) {
    return client_->query("autoscaling", action, params);
  }

  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<SimClient> client_;
};

TEST_F(LifecycleHooksTest, ScaleInWaitsInTerminatingWaitUntilCompletedByInstanceId) {
  SimOptions opt;
  opt.terminating = 200ms;
  start(opt);
  ASSERT_TRUE(sim_->create_group("app", 2).ok());
  auto r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"},
                                    {"LifecycleHookName", "drain"},
                                    {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"},
                                    {"HeartbeatTimeout", "300"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto victim = sim_->instances("app").back();  // newest terminates first

  ASSERT_TRUE(sim_->set_desired("app", 1).ok());
  EXPECT_EQ(lifecycle_of(*sim_, victim.id), "Terminating:Wait");
  EXPECT_TRUE(find_instance(*sim_, victim.id)->server_running);
  EXPECT_TRUE(accepts_connections(victim.address, sim_->options().instance_port));
  r = asg("DescribeAutoScalingGroups", {{"AutoScalingGroupNames.member.1", "app"}});
  EXPECT_NE(r.body.find("<InstanceId>" + victim.id +
                        "</InstanceId><InstanceType>t3.micro</InstanceType>"
                        "<AvailabilityZone>" +
                        victim.zone + "</AvailabilityZone><LifecycleState>Terminating:Wait"),
            std::string::npos)
      << r.body;
  // Still waiting well past --terminating: only the hook decides.
  EXPECT_FALSE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, victim.id) != "Terminating:Wait"; }, 500ms));

  r = asg("CompleteLifecycleAction", {{"AutoScalingGroupName", "app"},
                                      {"LifecycleHookName", "drain"},
                                      {"InstanceId", victim.id},
                                      {"LifecycleActionResult", "CONTINUE"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<CompleteLifecycleActionResponse"), std::string::npos);
  EXPECT_EQ(lifecycle_of(*sim_, victim.id), "Terminating:Proceed");
  EXPECT_TRUE(accepts_connections(victim.address, sim_->options().instance_port));
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, victim.id) == "gone"; }, 5s));
  EXPECT_FALSE(accepts_connections(victim.address, sim_->options().instance_port));

  auto actions = sim_->lifecycle_actions(victim.id);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].hook, "drain");
  EXPECT_EQ(actions[0].transition, kTerminatingTransition);
  EXPECT_EQ(actions[0].completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(actions[0].result, "CONTINUE");
  ASSERT_TRUE(actions[0].completed);
  EXPECT_GE(*actions[0].completed - actions[0].entered_wait, 500ms);
  EXPECT_EQ(actions[0].token.size(), 36u);

  // Nothing active any more: AWS's ValidationError, by id and by token.
  r = asg("CompleteLifecycleAction", {{"AutoScalingGroupName", "app"},
                                      {"LifecycleHookName", "drain"},
                                      {"InstanceId", victim.id},
                                      {"LifecycleActionResult", "CONTINUE"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Code"), "ValidationError");
  EXPECT_EQ(xml_text(r.body, "Message"), "No active Lifecycle Action found with instance ID " + victim.id);
  r = asg(
      "RecordLifecycleActionHeartbeat",
      {{"AutoScalingGroupName", "app"}, {"LifecycleHookName", "drain"}, {"LifecycleActionToken", actions[0].token}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Message"), "No active Lifecycle Action found with token " + actions[0].token);
}

TEST_F(LifecycleHooksTest, LaunchWaitsInPendingWaitHeartbeatAndCompletionByToken) {
  start();
  ASSERT_TRUE(sim_->create_queue("hooks").ok());
  auto r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"}, {"LifecycleHookName", "x"}});
  EXPECT_EQ(r.status, 400);  // no such group
  ASSERT_TRUE(sim_->create_group("app", 0).ok());
  r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"},
                               {"LifecycleHookName", "warmup"},
                               {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"},
                               {"NotificationTargetARN", sim_->queue_arn("hooks")},
                               {"RoleARN", "arn:aws:iam::123456789012:role/hooks"},
                               {"NotificationMetadata", "backend=app"},
                               {"DefaultResult", "CONTINUE"}});
  ASSERT_EQ(r.status, 200) << r.body;

  // The test notification, in AWS's shape.
  auto tests = messages(*sim_, "hooks", [](const auto& j) { return j.contains("Event"); });
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0]["Event"], "autoscaling:TEST_NOTIFICATION");
  EXPECT_EQ(tests[0]["Service"], "AWS Auto Scaling");
  EXPECT_EQ(tests[0]["AutoScalingGroupName"], "app");
  EXPECT_EQ(tests[0]["AccountId"], "123456789012");
  EXPECT_TRUE(tests[0]["AutoScalingGroupARN"].get<std::string>().ends_with(":autoScalingGroupName/app"));
  EXPECT_EQ(tests[0]["RequestId"].get<std::string>().size(), 36u);
  EXPECT_TRUE(tests[0].contains("Time"));

  r = asg("DescribeLifecycleHooks", {{"AutoScalingGroupName", "app"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(xml_text(r.body, "HeartbeatTimeout"), "3600");
  EXPECT_EQ(xml_text(r.body, "GlobalTimeout"), "172800");
  EXPECT_EQ(xml_text(r.body, "DefaultResult"), "CONTINUE");
  EXPECT_EQ(xml_text(r.body, "NotificationTargetARN"), sim_->queue_arn("hooks"));

  ASSERT_TRUE(sim_->set_desired("app", 1).ok());
  auto inst = sim_->instances("app").at(0);
  EXPECT_EQ(inst.lifecycle, "Pending:Wait");
  EXPECT_EQ(inst.ec2_state, "running");
  auto notes = messages(*sim_, "hooks", [](const auto& j) { return j.contains("LifecycleActionToken"); });
  ASSERT_EQ(notes.size(), 1u);
  const auto& n = notes[0];
  EXPECT_EQ(n["Service"], "AWS Auto Scaling");
  EXPECT_EQ(n["AccountId"], "123456789012");
  EXPECT_EQ(n["AutoScalingGroupName"], "app");
  EXPECT_EQ(n["LifecycleHookName"], "warmup");
  EXPECT_EQ(n["EC2InstanceId"], inst.id);
  EXPECT_EQ(n["LifecycleTransition"], "autoscaling:EC2_INSTANCE_LAUNCHING");
  EXPECT_EQ(n["NotificationMetadata"], "backend=app");
  EXPECT_EQ(n["Origin"], "EC2");
  EXPECT_EQ(n["Destination"], "AutoScalingGroup");
  EXPECT_EQ(n["RequestId"].get<std::string>().size(), 36u);
  EXPECT_TRUE(n["Time"].get<std::string>().ends_with("Z"));
  std::string token = n["LifecycleActionToken"];

  for (int i = 0; i < 2; ++i) {
    r = asg("RecordLifecycleActionHeartbeat",
            {{"AutoScalingGroupName", "app"}, {"LifecycleHookName", "warmup"}, {"LifecycleActionToken", token}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  r = asg("CompleteLifecycleAction", {{"AutoScalingGroupName", "app"},
                                      {"LifecycleHookName", "warmup"},
                                      {"LifecycleActionToken", token},
                                      {"LifecycleActionResult", "MAYBE"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Code"), "ValidationError");
  r = asg("CompleteLifecycleAction", {{"AutoScalingGroupName", "app"},
                                      {"LifecycleHookName", "warmup"},
                                      {"LifecycleActionToken", token},
                                      {"LifecycleActionResult", "CONTINUE"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, inst.id) == "InService"; }, 5s));
  auto a = sim_->lifecycle_actions(inst.id).at(0);
  EXPECT_EQ(a.token, token);
  EXPECT_EQ(a.heartbeats, 2);
  EXPECT_EQ(a.completed_by, "CompleteLifecycleAction");
  EXPECT_EQ(a.result, "CONTINUE");
  auto times = sim_->instance_times();
  ASSERT_TRUE(times.at(0).in_service);
  EXPECT_GE(*times.at(0).in_service, *a.completed);

  r = asg("DeleteLifecycleHook", {{"AutoScalingGroupName", "app"}, {"LifecycleHookName", "warmup"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = asg("DeleteLifecycleHook", {{"AutoScalingGroupName", "app"}, {"LifecycleHookName", "warmup"}});
  EXPECT_EQ(r.status, 400);
  r = asg("DescribeLifecycleHooks", {{"AutoScalingGroupName", "app"}});
  EXPECT_EQ(xml_text(r.body, "LifecycleHookName"), "");
}

TEST_F(LifecycleHooksTest, TimeoutsApplyTheDefaultResult) {
  SimOptions opt;
  opt.hook_second = 10ms;  // HeartbeatTimeout 30 s lasts 300 ms
  start(opt);
  ASSERT_TRUE(sim_->create_group("app", 0).ok());
  ASSERT_TRUE(sim_->put_lifecycle_hook(hook("app", "warmup", kLaunchingTransition, 30)).ok());  // ABANDON
  ASSERT_TRUE(sim_->set_desired("app", 1).ok());
  auto first = sim_->instances("app").at(0);
  ASSERT_EQ(first.lifecycle, "Pending:Wait");

  // ABANDON at timeout: the instance is terminated and the group launches a replacement, which waits in turn.
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, first.id) == "gone"; }, 5s));
  auto a = sim_->lifecycle_actions(first.id).at(0);
  EXPECT_EQ(a.completed_by, "timeout");
  EXPECT_EQ(a.result, "ABANDON");
  EXPECT_GE(*a.completed - a.entered_wait, 300ms);
  ASSERT_TRUE(hasg::test::wait_until([&] {
    auto all = sim_->instances("app");
    return all.size() == 1 && all[0].id != first.id && all[0].lifecycle == "Pending:Wait";
  }));

  // A terminating hook timing out terminates too, whatever its default.
  ASSERT_TRUE(
      sim_->put_lifecycle_hook(hook("app", "warmup", kLaunchingTransition, 7200, std::nullopt, "CONTINUE")).ok());
  ASSERT_TRUE(
      sim_->put_lifecycle_hook(hook("app", "drain", kTerminatingTransition, 30, std::nullopt, "CONTINUE")).ok());
  ASSERT_TRUE(sim_->set_desired("app", 0).ok());
  auto second = sim_->lifecycle_actions();
  ASSERT_FALSE(second.empty());
  std::string id = second.back().instance_id;
  EXPECT_EQ(lifecycle_of(*sim_, id), "Terminating:Wait");
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, id) == "gone"; }, 5s));
  auto last = sim_->lifecycle_actions(id).back();
  EXPECT_EQ(last.hook, "drain");
  EXPECT_EQ(last.completed_by, "timeout");
  EXPECT_EQ(last.result, "CONTINUE");
}

TEST_F(LifecycleHooksTest, HeartbeatsRestartTheTimeoutWithinTheGlobalTimeout) {
  SimOptions opt;
  opt.hook_second = 10ms;  // heartbeat timeout 30 s = 300 ms, global 80 s = 800 ms
  start(opt);
  ASSERT_TRUE(sim_->create_group("app", 1).ok());
  ASSERT_TRUE(sim_->put_lifecycle_hook(hook("app", "drain", kTerminatingTransition, 30, 80, "ABANDON")).ok());
  auto id = sim_->instances("app").at(0).id;
  ASSERT_TRUE(sim_->set_desired("app", 0).ok());
  auto heartbeat = [&] {
    return asg("RecordLifecycleActionHeartbeat",
               {{"AutoScalingGroupName", "app"}, {"LifecycleHookName", "drain"}, {"InstanceId", id}});
  };
  // Heartbeats every 100 ms keep it waiting past its 300 ms heartbeat timeout, until the global timeout ends it.
  int accepted = 0;
  while (heartbeat().status == 200) {
    ++accepted;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, id) == "gone"; }, 5s));
  auto a = sim_->lifecycle_actions(id).at(0);
  EXPECT_EQ(a.completed_by, "timeout");
  EXPECT_EQ(a.heartbeats, accepted);
  EXPECT_GE(accepted, 4);
  EXPECT_GE(*a.completed - a.entered_wait, 800ms);
}

TEST_F(LifecycleHooksTest, DeletingAHookReleasesItsWaitingInstances) {
  start();
  ASSERT_TRUE(sim_->create_group("app", 1).ok());
  ASSERT_TRUE(sim_->put_lifecycle_hook(hook("app", "drain", kTerminatingTransition, 300)).ok());
  ASSERT_TRUE(sim_->put_lifecycle_hook(hook("app", "warmup", kLaunchingTransition, 300)).ok());
  auto old = sim_->instances("app").at(0).id;
  ASSERT_TRUE(sim_->set_desired("app", 2).ok());
  auto fresh = sim_->instances("app").back().id;
  ASSERT_EQ(lifecycle_of(*sim_, fresh), "Pending:Wait");
  ASSERT_TRUE(sim_->set_desired("app", 1).ok());  // the newest goes: its launch action ends with it
  ASSERT_EQ(lifecycle_of(*sim_, fresh), "Terminating:Wait");
  EXPECT_EQ(sim_->lifecycle_actions(fresh).at(0).completed_by, "terminated");

  auto r = asg("DeleteLifecycleHook", {{"AutoScalingGroupName", "app"}, {"LifecycleHookName", "drain"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(lifecycle_of(*sim_, fresh), "gone");  // CONTINUE, and --terminating is 0
  auto a = sim_->lifecycle_actions(fresh).back();
  EXPECT_EQ(a.hook, "drain");
  EXPECT_EQ(a.completed_by, "DeleteLifecycleHook");
  EXPECT_EQ(a.result, "CONTINUE");
  EXPECT_EQ(lifecycle_of(*sim_, old), "InService");
}

TEST_F(LifecycleHooksTest, ControlEndpoints) {
  start();
  ASSERT_TRUE(sim_->create_group("app", 1).ok());
  httplib::Client http("127.0.0.1", sim_->port());
  auto post = [&](const std::string& path, const nlohmann::json& body) {
    auto r = http.Post(path, body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    return r ? std::make_pair(r->status, nlohmann::json::parse(r->body, nullptr, false))
             : std::make_pair(0, nlohmann::json());
  };
  auto [status, q] = post("/_sim/queues", {{"name", "ops"}});
  ASSERT_EQ(status, 200) << q.dump();
  EXPECT_EQ(q["url"], sim_->url() + "/123456789012/ops");
  EXPECT_EQ(q["arn"], "arn:aws:sqs:us-east-1:123456789012:ops");
  EXPECT_EQ(post("/_sim/groups/app/hooks", {{"name", "drain"},
                                            {"transition", kTerminatingTransition},
                                            {"heartbeat_timeout", 300},
                                            {"default_result", "CONTINUE"},
                                            {"notification_target_arn", q["arn"]}})
                .first,
            200);
  EXPECT_EQ(post("/_sim/groups/app/hooks", {{"name", "bad"}, {"heartbeat_timeout", 1}}).first, 400);
  EXPECT_EQ(post("/_sim/eventbridge", {{"queue", "ops"}}).first, 200);
  EXPECT_EQ(post("/_sim/eventbridge", {{"queue", "nope"}}).first, 400);
  auto id = sim_->instances("app").at(0).id;
  EXPECT_EQ(post("/_sim/groups/app/desired", {{"desired", 0}}).first, 200);
  auto r = http.Get("/_sim/lifecycle-actions/" + id);
  ASSERT_TRUE(r);
  auto list = nlohmann::json::parse(r->body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["instance_id"], id);
  EXPECT_EQ(list[0]["hook"], "drain");
  EXPECT_EQ(list[0]["completed"], false);
  EXPECT_EQ(list[0]["heartbeats"], 0);
  EXPECT_TRUE(list[0]["waited_ms"].is_number());
  auto state = nlohmann::json::parse(sim_->state_json());
  EXPECT_EQ(state["groups"][0]["hooks"][0]["name"], "drain");
  EXPECT_EQ(state["groups"][0]["instances"][0]["lifecycle"], "Terminating:Wait");
  EXPECT_EQ(state["queues"][0]["name"], "ops");
  EXPECT_EQ(state["queues"][0]["messages"], 3);  // test notification, lifecycle message, lifecycle event
  EXPECT_EQ(state["event_queues"][0], "ops");
}

TEST_F(LifecycleHooksTest, PutLifecycleHookChecksItsTargetAndValues) {
  start();
  ASSERT_TRUE(sim_->create_group("app", 1).ok());
  auto r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"},
                                    {"LifecycleHookName", "h"},
                                    {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"},
                                    {"NotificationTargetARN", "arn:aws:sqs:us-east-1:123456789012:missing"},
                                    {"RoleARN", "arn:aws:iam::123456789012:role/r"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(xml_text(r.body, "Code"), "ValidationError");
  EXPECT_NE(xml_text(r.body, "Message").find("Unable to publish test message to notification target"),
            std::string::npos);
  r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"},
                               {"LifecycleHookName", "h"},
                               {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"},
                               {"HeartbeatTimeout", "10"}});
  EXPECT_EQ(r.status, 400);
  r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"}, {"LifecycleHookName", "h"}});
  EXPECT_EQ(r.status, 400);  // a new hook needs its transition
  r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(xml_text(r.body, "Message").find("'lifecycleHookName'"), std::string::npos);
  // Without hooks, scale-in is what it always was.
  auto id = sim_->instances("app").at(0).id;
  ASSERT_TRUE(sim_->set_desired("app", 0).ok());
  EXPECT_EQ(lifecycle_of(*sim_, id), "gone");
  EXPECT_TRUE(sim_->lifecycle_actions().empty());
}

TEST_F(LifecycleHooksTest, EventRuleDeliversEventBridgeEvents) {
  SimOptions opt;
  opt.pending = 50ms;
  start(opt);
  ASSERT_TRUE(sim_->create_queue("events").ok());
  EXPECT_FALSE(sim_->route_events_to_queue("missing").ok());
  ASSERT_TRUE(sim_->route_events_to_queue("events").ok());
  ASSERT_TRUE(sim_->create_group("app", 0).ok());
  ASSERT_TRUE(sim_->put_lifecycle_hook(hook("app", "drain", kTerminatingTransition, 300)).ok());
  ASSERT_TRUE(sim_->set_desired("app", 1).ok());
  auto id = sim_->instances("app").at(0).id;
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, id) == "InService"; }, 5s));
  ASSERT_TRUE(sim_->set_desired("app", 0).ok());
  auto of_type = [&](const std::string& type) {
    return messages(*sim_, "events", [&](const auto& j) { return j["detail-type"] == type; });
  };
  for (const auto& e : messages(*sim_, "events", [](const auto&) { return true; })) {
    EXPECT_EQ(e["version"], "0");
    EXPECT_EQ(e["id"].get<std::string>().size(), 36u);
    EXPECT_EQ(e["account"], "123456789012");
    EXPECT_EQ(e["region"], "us-east-1");
    EXPECT_TRUE(e["time"].is_string());
    EXPECT_TRUE(e["resources"].is_array());
  }
  auto states = of_type("EC2 Instance State-change Notification");
  ASSERT_EQ(states.size(), 2u);  // pending, running
  EXPECT_EQ(states[0]["source"], "aws.ec2");
  EXPECT_EQ(states[0]["detail"]["instance-id"], id);
  EXPECT_EQ(states[0]["detail"]["state"], "pending");
  EXPECT_EQ(states[1]["detail"]["state"], "running");
  EXPECT_EQ(states[0]["resources"][0], "arn:aws:ec2:us-east-1:123456789012:instance/" + id);
  auto launched = of_type("EC2 Instance Launch Successful");
  ASSERT_EQ(launched.size(), 1u);
  EXPECT_EQ(launched[0]["source"], "aws.autoscaling");
  EXPECT_EQ(launched[0]["detail"]["EC2InstanceId"], id);
  EXPECT_EQ(launched[0]["detail"]["AutoScalingGroupName"], "app");
  EXPECT_EQ(launched[0]["detail"]["StatusCode"], "InProgress");
  EXPECT_EQ(launched[0]["detail"]["ActivityId"].get<std::string>().size(), 36u);
  auto waiting = of_type("EC2 Instance-terminate Lifecycle Action");
  ASSERT_EQ(waiting.size(), 1u);
  const auto& d = waiting[0]["detail"];
  EXPECT_EQ(d["EC2InstanceId"], id);
  EXPECT_EQ(d["LifecycleHookName"], "drain");
  EXPECT_EQ(d["AutoScalingGroupName"], "app");
  EXPECT_EQ(d["LifecycleTransition"], "autoscaling:EC2_INSTANCE_TERMINATING");
  EXPECT_EQ(d["LifecycleActionToken"], sim_->lifecycle_actions(id).at(0).token);
  EXPECT_TRUE(waiting[0]["resources"][0].get<std::string>().ends_with(":autoScalingGroupName/app"));
  EXPECT_TRUE(of_type("EC2 Instance Terminate Successful").empty());  // still waiting

  auto r = asg("CompleteLifecycleAction", {{"AutoScalingGroupName", "app"},
                                           {"LifecycleHookName", "drain"},
                                           {"InstanceId", id},
                                           {"LifecycleActionResult", "ABANDON"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(hasg::test::wait_until([&] { return !of_type("EC2 Instance Terminate Successful").empty(); }, 5s));
  auto gone = of_type("EC2 Instance Terminate Successful");
  EXPECT_EQ(gone[0]["detail"]["EC2InstanceId"], id);
  EXPECT_EQ(of_type("EC2 Instance State-change Notification").back()["detail"]["state"], "terminated");
}

}  // namespace
}  // namespace hasg::sim
