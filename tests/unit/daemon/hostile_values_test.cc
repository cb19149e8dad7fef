// Hostile values from AWS never reach haproxy.cfg or a runtime command. Answers carrying them go through the real
// decoding and discovery (a fake HTTP client in place of AWS), then desire, the renderer and the sync cycle: an id
// or address not in AWS's format is refused, logged once, counted, and the rest of the group is served.
#include <gtest/gtest.h>

#include <set>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "core/desire.h"
#include "core/server_id.h"
#include "daemon/metrics.h"
#include "daemon/prometheus_sink.h"
#include "daemon/syncer.h"
#include "discovery/aws_discovery.h"
#include "haproxy/renderer.h"
#include "unit/aws/fakes.h"

namespace hasg::daemon {
namespace {

std::string asg_answer(const std::vector<std::string>& ids) {
  std::string members;
  for (const auto& id : ids)
    members += "<member><InstanceId>" + id + "</InstanceId><AvailabilityZone>us-east-1a</AvailabilityZone>"
               "<LifecycleState>InService</LifecycleState><HealthStatus>Healthy</HealthStatus></member>";
  return "<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult><AutoScalingGroups><member>"
         "<AutoScalingGroupName>app</AutoScalingGroupName><MinSize>0</MinSize><MaxSize>9</MaxSize>"
         "<DesiredCapacity>7</DesiredCapacity><Instances>" + members +
         "</Instances></member></AutoScalingGroups></DescribeAutoScalingGroupsResult>"
         "</DescribeAutoScalingGroupsResponse>";
}

std::string ec2_answer(const std::vector<std::pair<std::string, std::string>>& id_address) {
  std::string items;
  for (const auto& [id, address] : id_address)
    items += "<item><instanceId>" + id + "</instanceId><instanceState><code>16</code><name>running</name>"
             "</instanceState><placement><availabilityZone>us-east-1a</availabilityZone></placement>"
             "<privateIpAddress>" + address + "</privateIpAddress></item>";
  return "<DescribeInstancesResponse><reservationSet><item><instancesSet>" + items +
         "</instancesSet></item></reservationSet></DescribeInstancesResponse>";
}

const char* kTemplate = "defaults\n    mode http\n\nbackend app\n    balance roundrobin\n";

struct AwsRig {
  AwsRig() {
    aws::ContextOptions o;
    o.clock = &clock;
    o.make_http = [this](aws::ClientUse) -> std::unique_ptr<aws::HttpClient> {
      struct Forward : aws::HttpClient {
        explicit Forward(aws::test::FakeHttpClient& f) : to(f) {}
        Result<aws::HttpResponse> send(const aws::HttpRequest& r) override { return to.send(r); }
        aws::test::FakeHttpClient& to;
      };
      return std::make_unique<Forward>(http);
    };
    auto env = std::make_unique<aws::MapEnvironment>(std::map<std::string, std::string>{
        {"AWS_REGION", "us-east-1"},
        {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
        {"AWS_SECRET_ACCESS_KEY", "secret"},
        {"AWS_EC2_METADATA_DISABLED", "true"}});
    auto d = discovery::AwsDiscovery::from_environment(std::move(env), o);
    EXPECT_TRUE(d.ok()) << d.error().message;
    if (d) discovery = std::move(*d);
    // "&#10;" is how a newline travels in XML; the decoder turns it back into one.
    http.respond("POST", "https://autoscaling.us-east-1.amazonaws.com/", 200,
                 asg_answer({"i-0a1b2c3d4e5f60001",
                             "i-0a1b2c3d4e5f60002&#10;shutdown sessions server app/i-0a1b2c3d4e5f60001",
                             "i-0a1b2c3d4e5f60003;disable server app/i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60004 #",
                             "i-0a1b2c3d4e5f60005", "i-0a1b2c3d4e5f60006", "i-0a1b2c3d4e5f60007"}));
    http.respond("POST", "https://ec2.us-east-1.amazonaws.com/", 200,
                 ec2_answer({{"i-0a1b2c3d4e5f60001", "127.0.0.2"},
                             {"i-0a1b2c3d4e5f60005", "127.0.0.5&#10;server evil 127.0.0.9:80"},
                             {"i-0a1b2c3d4e5f60006", "127.0.0.6 backup"},
                             {"i-0a1b2c3d4e5f60007", "127.0.0.7"}}));
  }
  aws::test::FakeClock clock;
  aws::test::FakeHttpClient http;
  std::unique_ptr<discovery::AwsDiscovery> discovery;
};

TEST(HostileValues, FromAwsAnswersOnlyTheGoodMembersReachTheFile) {
  AwsRig rig;
  ASSERT_TRUE(rig.discovery);
  auto groups = rig.discovery->provider().discover({"app"});
  ASSERT_TRUE(groups.ok()) << groups.error().message;
  const core::GroupMembers& g = groups->at(0);

  std::vector<std::string> refused;
  for (const auto& r : g.refused) refused.push_back(r.field + " " + r.value);
  EXPECT_EQ(refused, (std::vector<std::string>{
                         "InstanceId i-0a1b2c3d4e5f60002\nshutdown sessions server app/i-0a1b2c3d4e5f60001",
                         "InstanceId i-0a1b2c3d4e5f60003;disable server app/i-0a1b2c3d4e5f60001",
                         "InstanceId i-0a1b2c3d4e5f60004 #",
                         "PrivateIpAddress 127.0.0.5\nserver evil 127.0.0.9:80",
                         "PrivateIpAddress 127.0.0.6 backup"}));
  std::map<std::string, bool> served;
  for (const auto& m : g.members) served[m.instance_id] = m.served;
  EXPECT_EQ(served, (std::map<std::string, bool>{{"i-0a1b2c3d4e5f60001", true},
                                                 {"i-0a1b2c3d4e5f60005", false},
                                                 {"i-0a1b2c3d4e5f60006", false},
                                                 {"i-0a1b2c3d4e5f60007", true}}));
  // EC2 was asked about the well-formed ids only.
  for (const auto& req : rig.http.requests())
    if (req.url.find("ec2.") != std::string::npos) {
      EXPECT_EQ(req.body.find("60002"), std::string::npos) << req.body;
      EXPECT_EQ(req.body.find("60003"), std::string::npos) << req.body;
      EXPECT_EQ(req.body.find("60004"), std::string::npos) << req.body;
    }

  config::Config cfg;
  cfg.backends.push_back({"app", "app", 80, "check", std::chrono::seconds(30), "ipv4", "", "",
                          std::chrono::minutes(5), false, std::chrono::seconds(30), 0.25});
  auto desired = core::desire(cfg.backends, *groups);
  haproxy::ManagedBackend m{"app", "app", 80, "check", desired[0].servers};
  auto rendered = haproxy::render(kTemplate, "t", {m});
  ASSERT_TRUE(rendered.ok()) << rendered.error().message;
  EXPECT_EQ(*rendered, std::string(kTemplate) +
                           "    # haproxy-asg: group app, port 80, options: check (managed; do not edit)\n"
                           "    server i-0a1b2c3d4e5f60001 127.0.0.2:80 id " +
                           std::to_string(core::server_id_candidate("i-0a1b2c3d4e5f60001")) +
                           " check\n"
                           "    server i-0a1b2c3d4e5f60007 127.0.0.7:80 id " +
                           std::to_string(core::server_id_candidate("i-0a1b2c3d4e5f60007")) + " check\n");
}

class FakeProvider : public discovery::Provider {
 public:
  Result<std::vector<core::GroupMembers>> discover(const std::vector<std::string>&) override { return groups; }
  std::vector<core::GroupMembers> groups;
};

class FakeControl : public HaproxyControl {
 public:
  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>&,
                                                   const std::set<std::string>&) override {
    return actual;
  }
  Result<haproxy::RuntimeClient::ApplyResult> apply(const std::vector<core::Op>& ops) override {
    applied.insert(applied.end(), ops.begin(), ops.end());
    return haproxy::RuntimeClient::ApplyResult{ops.size(), ops.size(), {}};
  }
  Status reload() override { return Ok{}; }
  std::vector<core::ActualBackend> actual{{"app", true, {}}};
  std::vector<core::Op> applied;
};

class FakeFiles : public ConfigFiles {
 public:
  Result<std::string> read_template() override { return std::string(kTemplate); }
  Result<std::string> read_current() override { return current; }
  Status stage(const std::string& text) override {
    staged = text;
    return Ok{};
  }
  Status stage_unchecked(const std::string& text) override { return stage(text); }
  Status install() override {
    current = staged;
    ++installs;
    return Ok{};
  }
  std::string current, staged;
  int installs = 0;
};

config::Config test_config() {
  config::Config c;
  c.haproxy.template_path = "/etc/haproxy/haproxy.cfg.template";
  c.haproxy.config_path = "/etc/haproxy/haproxy.cfg";
  c.backends.push_back({"app", "app", 80, "check", std::chrono::seconds(30), "ipv4", "", "",
                        std::chrono::minutes(5), false, std::chrono::seconds(30), 0.25});
  return c;
}

core::Member served(const std::string& id, const std::string& address) {
  return {id, "app", "InService", "Healthy", "z", "running", address, "", true, ""};
}

// What a cycle does with a discovery that refused values: the good members are added, each refusal is logged when
// it first appears (not every cycle) and counted in haproxy_asg_refused_values.
TEST(HostileValues, RefusalsAreLoggedOnceAndCounted) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));

  FakeProvider provider;
  const std::string injected = "i-00000002\nadd server app/x 127.0.0.9:80";
  provider.groups = {core::GroupMembers{
      "app", true, {served("i-00000001", "127.0.0.2")},
      {{injected, "InstanceId", injected, "not an instance id"},
       {"i-00000003", "PrivateIpAddress", "127.0.0.3 backup", "not an IPv4 address"}}}};
  FakeControl control;
  FakeFiles files;
  Syncer syncer{test_config(), provider, control, files};
  Metrics metrics;
  PrometheusSink sink(metrics, nullptr);
  core::SyncState state;
  for (int cycle = 0; cycle < 3; ++cycle) {
    auto out = syncer.run(state, false);
    ASSERT_TRUE(out.report.ok()) << out.report.error().message;
    state = out.state;
    sink.cycle_ended(CycleEnd{{}, 0.01, &*out.report, nullptr, true});
  }
  spdlog::set_default_logger(previous);

  const std::string text = log.str();
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("refused InstanceId 'i-00000002\\x0aadd server app/x 127.0.0.9:80'"), 1u) << text;
  EXPECT_EQ(count("refused PrivateIpAddress '127.0.0.3 backup' of instance 'i-00000003'"), 1u) << text;
  EXPECT_EQ(text.find("\nadd server"), std::string::npos) << "a log line was split: " << text;
  const std::string scraped = sink.render();
  EXPECT_NE(scraped.find("haproxy_asg_refused_values{group=\"app\",field=\"InstanceId\"} 1\n"), std::string::npos)
      << scraped;
  EXPECT_NE(scraped.find("haproxy_asg_refused_values{group=\"app\",field=\"PrivateIpAddress\"} 1\n"),
            std::string::npos);

  ASSERT_FALSE(control.applied.empty());  // the good member is added: the rest of the group is served
  for (const auto& op : control.applied) EXPECT_EQ(op.server, "i-00000001");
  EXPECT_EQ(files.current.find("127.0.0.9"), std::string::npos) << files.current;

  // Gone from the answer: no longer counted, and logged again should it come back.
  provider.groups[0].refused.clear();
  auto out = syncer.run(state, false);
  ASSERT_TRUE(out.report.ok());
  sink.cycle_ended(CycleEnd{{}, 0.01, &*out.report, nullptr, true});
  EXPECT_EQ(sink.render().find("haproxy_asg_refused_values{"), std::string::npos);
}

// The renderer is the last line of defence: a member whose id would inject into the file (a provider that did not
// validate it) fails the cycle before anything is written or sent, so the last good file stays.
TEST(HostileValues, AnUnvalidatedHostileMemberFailsTheCycleAndChangesNothing) {
  FakeProvider provider;
  provider.groups = {core::GroupMembers{
      "app", true, {served("i-00000001", "127.0.0.2"), served("i-00000002\nserver evil 127.0.0.9:80", "127.0.0.3")},
      {}}};
  FakeControl control;
  FakeFiles files;
  files.current = "the last good file";
  Syncer syncer{test_config(), provider, control, files};
  auto out = syncer.run(core::SyncState{}, false);
  ASSERT_FALSE(out.report.ok());
  EXPECT_EQ(out.report.error().code, "TemplateError");
  EXPECT_NE(out.report.error().message.find("cannot write server 'i-00000002\\x0aserver evil"), std::string::npos)
      << out.report.error().message;
  EXPECT_TRUE(control.applied.empty());
  EXPECT_EQ(files.installs, 0);
  EXPECT_EQ(files.current, "the last good file");
}

}  // namespace
}  // namespace hasg::daemon
