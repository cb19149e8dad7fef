// SetInstanceHealth in the simulator, through the signed Auto Scaling Query API as a client sees it: an Unhealthy
// report replaces the instance (terminating through the group's hooks while a new one launches at the same desired
// capacity), the health check grace period is respected or not as the caller asks, and AWS's errors.
#include <gtest/gtest.h>
#include <httplib.h>

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

constexpr const char* kAsgNs = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

// Members not terminating and InService.
int in_service(const Simulator& sim, const std::string& group) {
  int n = 0;
  for (const auto& i : sim.instances(group)) n += i.lifecycle == "InService";
  return n;
}

class SimHealthTest : public ::testing::Test {
 protected:
  void start(SimOptions opt = {}) {
    opt.instance_net = 214;
    sim_ = std::make_unique<Simulator>(opt);
    ASSERT_TRUE(sim_->start().ok());
    client_ = std::make_unique<SimClient>(*sim_);
  }

  aws::HttpResponse asg(const std::string& action, const std::vector<std::pair<std::string, std::string>>& params) {
    return client_->query("autoscaling", action, params);
  }

  aws::HttpResponse set_instance_health(const std::string& id, const std::string& health,
                                        std::optional<bool> respect = std::nullopt) {
    std::vector<std::pair<std::string, std::string>> p = {{"InstanceId", id}, {"HealthStatus", health}};
    if (respect) p.emplace_back("ShouldRespectGracePeriod", *respect ? "true" : "false");
    return asg("SetInstanceHealth", p);
  }

  // The <member> of DescribeAutoScalingGroups' answer for `group`.
  pugi::xml_node describe_group(pugi::xml_document& doc, const std::string& group) {
    auto r = asg("DescribeAutoScalingGroups", {{"AutoScalingGroupNames.member.1", group}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(doc.load_string(r.body.c_str()));
    return doc.select_node("//AutoScalingGroups/member").node();
  }

  std::string described_health(const std::string& group, const std::string& id) {
    pugi::xml_document doc;
    auto g = describe_group(doc, group);
    for (auto m : g.child("Instances").children("member"))
      if (id == m.child_value("InstanceId")) return m.child_value("HealthStatus");
    return "absent";
  }

  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<SimClient> client_;
};

TEST_F(SimHealthTest, UnhealthyIsReplacedThroughTheTerminatingHookAtTheSameDesiredCapacity) {
  SimOptions opt;
  opt.terminating = 100ms;
  start(opt);
  ASSERT_TRUE(sim_->create_group("app", 2).ok());
  auto r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"},
                                    {"LifecycleHookName", "drain"},
                                    {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"},
                                    {"HeartbeatTimeout", "300"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto before = sim_->instances("app");
  ASSERT_EQ(before.size(), 2u);
  auto victim = before[0];

  r = set_instance_health(victim.id, "Unhealthy");  // ShouldRespectGracePeriod defaults to true; the grace is 0
  ASSERT_EQ(r.status, 200) << r.body;
  // No output shape: the answer is the response element with only its metadata.
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  auto root = doc.child("SetInstanceHealthResponse");
  ASSERT_TRUE(root) << r.body;
  EXPECT_STREQ(root.attribute("xmlns").value(), kAsgNs);
  EXPECT_FALSE(root.child("SetInstanceHealthResult"));
  EXPECT_EQ(std::string(root.child("ResponseMetadata").child_value("RequestId")).size(), 36u);

  // The victim waits on the hook, Unhealthy, its server's fate in the hook's hands; a replacement launched.
  EXPECT_EQ(lifecycle_of(*sim_, victim.id), "Terminating:Wait");
  EXPECT_EQ(described_health("app", victim.id), "Unhealthy");
  EXPECT_EQ(sim_->unhealthy_replacements(), 1u);
  ASSERT_TRUE(hasg::test::wait_until([&] { return in_service(*sim_, "app") == 2; }, 5s));
  EXPECT_EQ(sim_->instances("app").size(), 3u);
  pugi::xml_document gd;
  EXPECT_STREQ(describe_group(gd, "app").child_value("DesiredCapacity"), "2");

  // Reported again while terminating: accepted, no second replacement.
  r = set_instance_health(victim.id, "Unhealthy", false);
  EXPECT_EQ(r.status, 200) << r.body;
  // Healthy comes too late once the replacement began.
  r = set_instance_health(victim.id, "Healthy");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(described_health("app", victim.id), "Unhealthy");
  EXPECT_EQ(sim_->unhealthy_replacements(), 1u);
  EXPECT_EQ(sim_->instances("app").size(), 3u);

  auto actions = sim_->lifecycle_actions(victim.id);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].transition, kTerminatingTransition);
  r = asg("CompleteLifecycleAction", {{"AutoScalingGroupName", "app"},
                                      {"LifecycleHookName", "drain"},
                                      {"InstanceId", victim.id},
                                      {"LifecycleActionResult", "CONTINUE"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, victim.id) == "gone"; }, 5s));
  EXPECT_EQ(described_health("app", victim.id), "absent");
  auto after = sim_->instances("app");
  ASSERT_EQ(after.size(), 2u);
  for (const auto& i : after) {
    EXPECT_EQ(i.health, "Healthy");
    EXPECT_EQ(i.lifecycle, "InService");
  }
  EXPECT_EQ(after[0].id, before[1].id);  // the other one untouched

  auto reports = sim_->health_reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].instance_id, victim.id);
  EXPECT_EQ(reports[0].health, "Unhealthy");
  EXPECT_TRUE(reports[0].respect_grace);
  EXPECT_TRUE(reports[0].applied);
  EXPECT_FALSE(reports[1].respect_grace);
  EXPECT_EQ(reports[2].health, "Healthy");
  EXPECT_LE(reports[0].time, reports[1].time);
  EXPECT_EQ(sim_->calls("SetInstanceHealth"), 3u);
}

TEST_F(SimHealthTest, WithoutHooksTheUnhealthyInstanceTerminatesAndItsServerStops) {
  SimOptions opt;
  opt.terminating = 100ms;
  opt.instance_port = hasg::test::free_port();
  start(opt);
  ASSERT_TRUE(sim_->create_group("app", 1).ok());
  auto victim = sim_->instances("app").at(0);
  ASSERT_TRUE(victim.server_running);
  auto r = set_instance_health(victim.id, "Unhealthy", true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(lifecycle_of(*sim_, victim.id), "Terminating");
  EXPECT_EQ(described_health("app", victim.id), "Unhealthy");
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, victim.id) == "gone"; }, 5s));
  auto now = sim_->instances("app");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0].id, victim.id);
  EXPECT_EQ(now[0].lifecycle, "InService");
  EXPECT_TRUE(now[0].server_running);
  EXPECT_EQ(sim_->unhealthy_replacements(), 1u);
}

TEST_F(SimHealthTest, WithinTheGracePeriodARespectfulReportIsIgnoredAndAnotherIsNot) {
  start();
  ASSERT_TRUE(sim_->create_group("app", 2, 0, 10, 3600).ok());
  pugi::xml_document doc;
  auto g = describe_group(doc, "app");
  EXPECT_STREQ(g.child_value("HealthCheckGracePeriod"), "3600");
  EXPECT_STREQ(g.child_value("HealthCheckType"), "EC2");
  auto inst = sim_->instances("app");

  // Default (true) and explicit true: success, and nothing happens.
  auto r = set_instance_health(inst[0].id, "Unhealthy");
  ASSERT_EQ(r.status, 200) << r.body;
  r = set_instance_health(inst[0].id, "Unhealthy", true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(lifecycle_of(*sim_, inst[0].id), "InService");
  EXPECT_EQ(described_health("app", inst[0].id), "Healthy");
  EXPECT_EQ(sim_->unhealthy_replacements(), 0u);
  EXPECT_EQ(sim_->instances("app").size(), 2u);

  // ShouldRespectGracePeriod false: replaced at once.
  r = set_instance_health(inst[1].id, "Unhealthy", false);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(lifecycle_of(*sim_, inst[1].id), "InService");
  EXPECT_EQ(sim_->unhealthy_replacements(), 1u);
  ASSERT_TRUE(hasg::test::wait_until([&] { return in_service(*sim_, "app") == 2; }, 5s));

  auto reports = sim_->health_reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_FALSE(reports[0].applied);
  EXPECT_TRUE(reports[0].respect_grace);
  EXPECT_FALSE(reports[1].applied);
  EXPECT_TRUE(reports[2].applied);
  EXPECT_FALSE(reports[2].respect_grace);
}

TEST_F(SimHealthTest, AfterTheGracePeriodARespectfulReportReplaces) {
  SimOptions opt;
  opt.grace_second = 20ms;  // a grace period of 5 s lasts 100 ms
  start(opt);
  ASSERT_TRUE(sim_->create_group("app", 0, 0, 10, 5).ok());
  // A launching hook holds the instance in Pending:Wait: not yet InService, so within the grace period.
  auto r = asg("PutLifecycleHook", {{"AutoScalingGroupName", "app"},
                                    {"LifecycleHookName", "warmup"},
                                    {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(sim_->set_desired("app", 1).ok());
  auto id = sim_->instances("app").at(0).id;
  ASSERT_EQ(lifecycle_of(*sim_, id), "Pending:Wait");
  r = set_instance_health(id, "Unhealthy");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(sim_->unhealthy_replacements(), 0u);
  EXPECT_EQ(lifecycle_of(*sim_, id), "Pending:Wait");
  r = asg("CompleteLifecycleAction", {{"AutoScalingGroupName", "app"},
                                      {"LifecycleHookName", "warmup"},
                                      {"InstanceId", id},
                                      {"LifecycleActionResult", "CONTINUE"}});
  ASSERT_EQ(r.status, 200) << r.body;

  std::optional<std::chrono::steady_clock::time_point> since;
  ASSERT_TRUE(hasg::test::wait_until(
      [&] {
        for (const auto& t : sim_->instance_times())
          if (t.id == id && t.in_service) since = t.in_service;
        return since.has_value();
      },
      5s));
  ASSERT_TRUE(
      hasg::test::wait_until([&] { return std::chrono::steady_clock::now() - *since >= 5 * opt.grace_second; }, 5s));
  r = set_instance_health(id, "Unhealthy");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(sim_->unhealthy_replacements(), 1u);
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, id) == "gone"; }, 5s));
  auto reports = sim_->health_reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_FALSE(reports[0].applied);
  EXPECT_TRUE(reports[1].applied);
}

TEST_F(SimHealthTest, HealthyRestoresAMarkedInstance) {
  start();
  ASSERT_TRUE(sim_->create_group("app", 1).ok());
  auto id = sim_->instances("app").at(0).id;
  ASSERT_TRUE(sim_->set_health(id, "Unhealthy").ok());  // the control lever only marks
  EXPECT_EQ(described_health("app", id), "Unhealthy");
  auto r = set_instance_health(id, "Healthy");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(described_health("app", id), "Healthy");
  EXPECT_EQ(lifecycle_of(*sim_, id), "InService");
  EXPECT_EQ(sim_->unhealthy_replacements(), 0u);
}

TEST_F(SimHealthTest, ErrorsAreAwsValidationErrors) {
  SimOptions opt;
  start(opt);
  ASSERT_TRUE(sim_->create_group("app", 1).ok());
  auto id = sim_->instances("app").at(0).id;
  auto expect_error = [&](const aws::HttpResponse& r, const std::string& message) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(xml_text(r.body, "Code"), "ValidationError") << r.body;
    EXPECT_EQ(xml_text(r.body, "Type"), "Sender") << r.body;
    EXPECT_EQ(xml_text(r.body, "Message"), message) << r.body;
  };
  expect_error(set_instance_health("i-0123456789abcdef0", "Unhealthy"),
               "Instance Id not found - No managed instance found for instance ID: i-0123456789abcdef0");
  expect_error(asg("SetInstanceHealth", {{"InstanceId", id}}),
               "1 validation error detected: Value null at 'healthStatus' failed to satisfy constraint: Member must "
               "not be null");
  expect_error(asg("SetInstanceHealth", {{"HealthStatus", "Unhealthy"}}),
               "1 validation error detected: Value null at 'instanceId' failed to satisfy constraint: Member must "
               "not be null");
  expect_error(set_instance_health(id, "Sick"), "Valid values for HealthStatus are Healthy and Unhealthy");
  expect_error(asg("SetInstanceHealth", {{"InstanceId", id}, {"HealthStatus", "Unhealthy"},
                                         {"ShouldRespectGracePeriod", "maybe"}}),
               "1 validation error detected: Value 'maybe' at 'shouldRespectGracePeriod' failed to satisfy "
               "constraint: Member must be a boolean");
  expect_error(set_instance_health("i-0123456789abcdef0123", "Unhealthy"),
               "1 validation error detected: Value 'i-0123456789abcdef0123' at 'instanceId' failed to satisfy "
               "constraint: Member must have length less than or equal to 19 and greater than or equal to 1");
  // A terminated instance is no longer managed.
  auto r = set_instance_health(id, "Unhealthy");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(hasg::test::wait_until([&] { return lifecycle_of(*sim_, id) == "gone"; }, 5s));
  expect_error(set_instance_health(id, "Unhealthy"),
               "Instance Id not found - No managed instance found for instance ID: " + id);
  EXPECT_EQ(sim_->health_reports().size(), 1u);  // rejected calls are not reports
  EXPECT_EQ(sim_->instances("app").size(), 1u);
}

TEST_F(SimHealthTest, ControlEndpointSetsTheGracePeriod) {
  start();
  httplib::Client http("127.0.0.1", sim_->port());
  auto res = http.Post("/_sim/groups", R"({"name":"web","desired":1,"health_check_grace_period":120})",
                       "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  res = http.Post("/_sim/groups", R"({"name":"plain","desired":1})", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  pugi::xml_document a, b;
  EXPECT_STREQ(describe_group(a, "web").child_value("HealthCheckGracePeriod"), "120");
  EXPECT_STREQ(describe_group(b, "plain").child_value("HealthCheckGracePeriod"), "0");
  auto state = nlohmann::json::parse(sim_->state_json());
  EXPECT_EQ(state["groups"][1]["name"], "web");
  EXPECT_EQ(state["groups"][1]["health_check_grace_period"], 120);
  EXPECT_EQ(state["unhealthy_replacements"], 0);
}

}  // namespace
}  // namespace hasg::sim
