// The simulator speaks AWS's wire format: Debian's awscli and boto3 (real botocore parsers and signers) pointed at
// it must sign requests it accepts and parse every answer it gives, errors and pagination included.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fmt/chrono.h>
#include <map>
#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/cloudwatch.h"
#include "sim_env.h"

namespace hasg::test {
namespace {

class AwsClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/bin/aws")) GTEST_SKIP() << "Debian's awscli is not installed";
    sim::SimOptions opt;
    opt.instance_net = 12;
    sim_ = std::make_unique<sim::Simulator>(opt);
    ASSERT_TRUE(sim_->start().ok());
    ASSERT_TRUE(sim_->create_group("app", 3).ok());
    env_ = sim_env(*sim_);
    env_["HOME"] = tmp_.path();  // no user config, no CLI cache
    env_["AWS_PAGER"] = "";
  }

  CommandResult aws(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", sim_->url(), "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, env_, std::chrono::seconds(60));
  }

  CommandResult python(const std::string& script) {
    return run_command({"/usr/bin/python3", "-c", script}, env_, std::chrono::seconds(60));
  }

  TempDir tmp_;
  std::unique_ptr<sim::Simulator> sim_;
  EnvOverrides env_;
};

TEST_F(AwsClientsTest, AwscliDescribesGroups) {
  auto r = aws({"autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "app"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["AutoScalingGroups"].size(), 1u);
  const auto& g = j["AutoScalingGroups"][0];
  EXPECT_EQ(g["AutoScalingGroupName"], "app");
  EXPECT_EQ(g["DesiredCapacity"], 3);
  ASSERT_EQ(g["Instances"].size(), 3u);
  auto sim_instances = sim_->instances("app");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(g["Instances"][i]["InstanceId"], sim_instances[i].id);
    EXPECT_EQ(g["Instances"][i]["LifecycleState"], "InService");
    EXPECT_EQ(g["Instances"][i]["ProtectedFromScaleIn"], false);  // parsed as a boolean, not a string
  }
}

TEST_F(AwsClientsTest, AwscliDescribesInstances) {
  auto sim_instances = sim_->instances("app");
  auto r = aws({"ec2", "describe-instances", "--instance-ids", sim_instances[0].id, sim_instances[2].id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["Reservations"].size(), 2u);
  const auto& inst = j["Reservations"][0]["Instances"][0];
  EXPECT_EQ(inst["InstanceId"], sim_instances[0].id);
  EXPECT_EQ(inst["PrivateIpAddress"], sim_instances[0].address);
  EXPECT_EQ(inst["State"]["Name"], "running");
  EXPECT_EQ(inst["State"]["Code"], 16);
  EXPECT_EQ(inst["Placement"]["AvailabilityZone"], sim_instances[0].zone);
}

TEST_F(AwsClientsTest, AwscliCreatesAndDescribesTags) {
  // The cluster's drain records: one tag per load balancer on a departing instance.
  auto ids = sim_->instances("app");
  auto r = aws({"ec2", "create-tags", "--resources", ids[0].id, "--tags", "Key=haproxy-asg:drained:i-lb1,Value=t1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = aws({"ec2", "create-tags", "--resources", ids[0].id, ids[1].id, "--tags",
           "Key=haproxy-asg:drained:i-lb2,Value=t2", "Key=team,Value=web"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = aws({"ec2", "describe-tags", "--filters", "Name=resource-id,Values=" + ids[0].id,
           "Name=key,Values=haproxy-asg:drained:i-lb1,haproxy-asg:drained:i-lb2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["Tags"].size(), 2u) << r.out;
  EXPECT_EQ(j["Tags"][0]["ResourceId"], ids[0].id);
  EXPECT_EQ(j["Tags"][0]["ResourceType"], "instance");
  EXPECT_EQ(j["Tags"][0]["Key"], "haproxy-asg:drained:i-lb1");
  EXPECT_EQ(j["Tags"][0]["Value"], "t1");
  EXPECT_EQ(j["Tags"][1]["Key"], "haproxy-asg:drained:i-lb2");
  // awscli follows NextToken with MaxResults 5 (8 tags: two pages).
  r = aws({"ec2", "create-tags", "--resources", ids[2].id, "--tags", "Key=a,Value=1", "Key=b,Value=2",
           "Key=c,Value=3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = aws({"ec2", "describe-tags", "--page-size", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["Tags"].size(), 8u) << r.out;
  // EC2's refusals.
  r = aws({"ec2", "create-tags", "--resources", ids[0].id, "--tags", "Key=aws:x,Value=1"});
  EXPECT_NE(r.err.find("InvalidParameterValue"), std::string::npos) << r.err;
  r = aws({"ec2", "create-tags", "--resources", "i-0123456789abcdef0", "--tags", "Key=k,Value=v"});
  EXPECT_NE(r.err.find("InvalidInstanceID.NotFound"), std::string::npos) << r.err;
  r = aws({"ec2", "describe-tags", "--filters", "Name=nope,Values=x"});
  EXPECT_NE(r.err.find("InvalidParameterValue"), std::string::npos) << r.err;
}

TEST_F(AwsClientsTest, AwscliReadsErrorDocuments) {
  env_["AWS_SECRET_ACCESS_KEY"] = "wrong";
  auto r = aws({"autoscaling", "describe-auto-scaling-groups"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("An error occurred (SignatureDoesNotMatch) when calling the DescribeAutoScalingGroups"),
            std::string::npos)
      << r.err;
  r = aws({"ec2", "describe-instances"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("An error occurred (AuthFailure) when calling the DescribeInstances operation"),
            std::string::npos)
      << r.err;
}

TEST_F(AwsClientsTest, AwscliSeesThrottlingAfterItsRetries) {
  sim_->inject({"DescribeInstances", sim::Fault::Kind::Throttle, -1, 0});
  env_["AWS_MAX_ATTEMPTS"] = "2";
  auto r = aws({"ec2", "describe-instances"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("RequestLimitExceeded"), std::string::npos) << r.err;
}

TEST_F(AwsClientsTest, Boto3PaginatesGroupsAndInstances) {
  for (int i = 0; i < 120; ++i) ASSERT_TRUE(sim_->create_group("g" + std::to_string(i), 2).ok());
  auto r = python(R"(
import boto3, json, os
kw = dict(endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
asg = boto3.client('autoscaling', **kw)
pages = list(asg.get_paginator('describe_auto_scaling_groups').paginate(PaginationConfig={'PageSize': 50}))
groups = [g['AutoScalingGroupName'] for p in pages for g in p['AutoScalingGroups']]
ec2 = boto3.client('ec2', **kw)
ipages = list(ec2.get_paginator('describe_instances').paginate(
    Filters=[{'Name': 'instance-state-name', 'Values': ['running']}], PaginationConfig={'PageSize': 100}))
ids = [i['InstanceId'] for p in ipages for r in p['Reservations'] for i in r['Instances']]
print(json.dumps({'group_pages': len(pages), 'groups': len(groups), 'distinct': len(set(groups)),
                  'instance_pages': len(ipages), 'instances': len(ids), 'distinct_ids': len(set(ids))}))
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["groups"], 121);
  EXPECT_EQ(j["distinct"], 121);
  EXPECT_EQ(j["group_pages"], 3);
  EXPECT_EQ(j["instances"], 243);
  EXPECT_EQ(j["distinct_ids"], 243);
  EXPECT_EQ(j["instance_pages"], 3);
}

TEST_F(AwsClientsTest, BotocoreGetsInstanceProfileCredentialsFromSimulatedImds) {
  env_["AWS_ACCESS_KEY_ID"] = "";
  env_["AWS_SECRET_ACCESS_KEY"] = "";
  env_["AWS_EC2_METADATA_DISABLED"] = "";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = sim_->url() + "/";
  auto r = python(R"(
import boto3, os
s = boto3.session.Session(region_name='us-east-1')
c = s.get_credentials()
asg = s.client('autoscaling', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
n = len(asg.describe_auto_scaling_groups()['AutoScalingGroups'])
print(c.method, c.access_key[:4], n)
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "iam-role ASIA 1\n");
}

// Lifecycle hooks and SQS as Debian's awscli sees them (its botocore speaks SQS's Query protocol): the hook's queue
// gets the test notification and the Terminating:Wait notification, the token from it drives a heartbeat, the
// instance id completes the action, and a second completion gets AWS's error.
TEST_F(AwsClientsTest, AwscliLifecycleHooksThroughSqs) {
  auto r = aws({"sqs", "create-queue", "--queue-name", "hooks"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string url = nlohmann::json::parse(r.out)["QueueUrl"];
  EXPECT_EQ(url, sim_->url() + "/123456789012/hooks");
  r = aws({"sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "QueueArn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string arn = nlohmann::json::parse(r.out)["Attributes"]["QueueArn"];
  EXPECT_EQ(arn, "arn:aws:sqs:us-east-1:123456789012:hooks");

  r = aws({"autoscaling", "put-lifecycle-hook", "--auto-scaling-group-name", "app", "--lifecycle-hook-name", "drain",
           "--lifecycle-transition", "autoscaling:EC2_INSTANCE_TERMINATING", "--notification-target-arn", arn,
           "--role-arn", "arn:aws:iam::123456789012:role/hooks", "--heartbeat-timeout", "120",
           "--notification-metadata", "backend=app"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = aws({"autoscaling", "describe-lifecycle-hooks", "--auto-scaling-group-name", "app"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto hooks = nlohmann::json::parse(r.out)["LifecycleHooks"];
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0]["LifecycleHookName"], "drain");
  EXPECT_EQ(hooks[0]["LifecycleTransition"], "autoscaling:EC2_INSTANCE_TERMINATING");
  EXPECT_EQ(hooks[0]["NotificationTargetARN"], arn);
  EXPECT_EQ(hooks[0]["NotificationMetadata"], "backend=app");
  EXPECT_EQ(hooks[0]["HeartbeatTimeout"], 120);  // parsed as numbers
  EXPECT_EQ(hooks[0]["GlobalTimeout"], 12000);
  EXPECT_EQ(hooks[0]["DefaultResult"], "ABANDON");

  auto victim = sim_->instances("app").back().id;
  ASSERT_TRUE(sim_->set_desired("app", 2).ok());
  r = aws({"autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "app"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["AutoScalingGroups"][0]["Instances"][2]["LifecycleState"], "Terminating:Wait");

  r = aws({"sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10", "--wait-time-seconds", "5",
           "--attribute-names", "All"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto msgs = nlohmann::json::parse(r.out)["Messages"];
  ASSERT_EQ(msgs.size(), 2u) << r.out;
  nlohmann::json note;
  for (const auto& m : msgs) {
    EXPECT_EQ(m["Attributes"]["ApproximateReceiveCount"], "1");
    auto body = nlohmann::json::parse(m["Body"].get<std::string>());
    if (body.contains("LifecycleActionToken")) note = body;
  }
  ASSERT_FALSE(note.is_null()) << r.out;
  EXPECT_EQ(note["EC2InstanceId"], victim);
  EXPECT_EQ(note["LifecycleTransition"], "autoscaling:EC2_INSTANCE_TERMINATING");
  r = aws({"autoscaling", "record-lifecycle-action-heartbeat", "--auto-scaling-group-name", "app",
           "--lifecycle-hook-name", "drain", "--lifecycle-action-token", note["LifecycleActionToken"]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = aws({"autoscaling", "complete-lifecycle-action", "--auto-scaling-group-name", "app", "--lifecycle-hook-name",
           "drain", "--instance-id", victim, "--lifecycle-action-result", "CONTINUE"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& m : msgs) {
    r = aws({"sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"]});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_TRUE(sim_->queue_messages("hooks")->empty());
  auto actions = sim_->lifecycle_actions(victim);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].heartbeats, 1);
  EXPECT_EQ(actions[0].completed_by, "CompleteLifecycleAction");

  r = aws({"autoscaling", "complete-lifecycle-action", "--auto-scaling-group-name", "app", "--lifecycle-hook-name",
           "drain", "--instance-id", victim, "--lifecycle-action-result", "CONTINUE"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("An error occurred (ValidationError) when calling the CompleteLifecycleAction operation: No "
                       "active Lifecycle Action found with instance ID " +
                       victim),
            std::string::npos)
      << r.err;
}

// SetInstanceHealth as awscli sees it: no output on success, the Unhealthy instance waiting on the terminating hook
// while its replacement runs (desired unchanged), and AWS's error for an instance no group manages.
TEST_F(AwsClientsTest, AwscliSetInstanceHealthReplacesTheInstance) {
  auto r = aws({"autoscaling", "put-lifecycle-hook", "--auto-scaling-group-name", "app", "--lifecycle-hook-name", "drain",
                "--lifecycle-transition", "autoscaling:EC2_INSTANCE_TERMINATING"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto victim = sim_->instances("app").front().id;
  r = aws({"autoscaling", "set-instance-health", "--instance-id", victim, "--health-status", "Unhealthy",
           "--should-respect-grace-period"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // no output shape: awscli prints nothing
  r = aws({"autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "app"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto g = nlohmann::json::parse(r.out)["AutoScalingGroups"][0];
  EXPECT_EQ(g["DesiredCapacity"], 3);
  EXPECT_EQ(g["HealthCheckType"], "EC2");
  EXPECT_EQ(g["HealthCheckGracePeriod"], 0);  // parsed as a number
  ASSERT_EQ(g["Instances"].size(), 4u);
  int healthy = 0;
  for (const auto& i : g["Instances"]) {
    if (i["InstanceId"] == victim) {
      EXPECT_EQ(i["HealthStatus"], "Unhealthy");
      EXPECT_EQ(i["LifecycleState"], "Terminating:Wait");
    } else {
      healthy += i["HealthStatus"] == "Healthy" && i["LifecycleState"] == "InService";
    }
  }
  EXPECT_EQ(healthy, 3);
  EXPECT_EQ(sim_->unhealthy_replacements(), 1u);

  r = aws({"autoscaling", "set-instance-health", "--instance-id", "i-0123456789abcdef0", "--health-status",
           "Unhealthy"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("An error occurred (ValidationError) when calling the SetInstanceHealth operation: Instance Id "
                       "not found - No managed instance found for instance ID: i-0123456789abcdef0"),
            std::string::npos)
      << r.err;
}

// boto3: the grace period in DescribeAutoScalingGroups, a respectful report ignored within it (success, nothing
// changes), a report that does not respect it replacing the instance, and a bad HealthStatus as a ClientError.
TEST_F(AwsClientsTest, Boto3SetInstanceHealthAndTheGracePeriod) {
  ASSERT_TRUE(sim_->create_group("graceful", 1, 0, 10, 3600).ok());
  auto r = python(R"(
import boto3, botocore, json, os
asg = boto3.client('autoscaling', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
group = lambda: asg.describe_auto_scaling_groups(AutoScalingGroupNames=['graceful'])['AutoScalingGroups'][0]
g = group()
victim = g['Instances'][0]['InstanceId']
out = {'grace': g['HealthCheckGracePeriod'], 'type': g['HealthCheckType']}
resp = asg.set_instance_health(InstanceId=victim, HealthStatus='Unhealthy', ShouldRespectGracePeriod=True)
out['keys'] = sorted(resp.keys())
out['status'] = resp['ResponseMetadata']['HTTPStatusCode']
out['after_respectful'] = [(i['InstanceId'] == victim, i['HealthStatus']) for i in group()['Instances']]
asg.set_instance_health(InstanceId=victim, HealthStatus='Unhealthy', ShouldRespectGracePeriod=False)
g = group()
out['after_forced'] = {'victim_present': any(i['InstanceId'] == victim for i in g['Instances']),
                       'instances': len(g['Instances']), 'desired': g['DesiredCapacity']}
try:
    asg.set_instance_health(InstanceId=g['Instances'][0]['InstanceId'], HealthStatus='Sick')
    out['error'] = None
except botocore.exceptions.ClientError as e:
    out['error'] = [e.response['Error']['Code'], e.response['Error']['Message']]
print(json.dumps(out))
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["grace"], 3600);
  EXPECT_EQ(j["type"], "EC2");
  EXPECT_EQ(j["keys"], nlohmann::json::array({"ResponseMetadata"}));
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["after_respectful"], nlohmann::json::parse(R"([[true, "Healthy"]])"));
  EXPECT_EQ(j["after_forced"]["victim_present"], false);  // terminated at once (no hook, no --terminating)
  EXPECT_EQ(j["after_forced"]["instances"], 1);
  EXPECT_EQ(j["after_forced"]["desired"], 1);
  EXPECT_EQ(j["error"], nlohmann::json::parse(R"(["ValidationError",
                                                   "Valid values for HealthStatus are Healthy and Unhealthy"])"));
  auto reports = sim_->health_reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_FALSE(reports[0].applied);
  EXPECT_TRUE(reports[1].applied);
}

TEST_F(AwsClientsTest, AwscliSqsSendReceiveDelete) {
  auto r = aws({"sqs", "create-queue", "--queue-name", "work"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string url = nlohmann::json::parse(r.out)["QueueUrl"];
  r = aws({"sqs", "send-message", "--queue-url", url, "--message-body", "hello"});
  ASSERT_EQ(r.exit_code, 0) << r.err;  // awscli checks MD5OfMessageBody itself
  EXPECT_EQ(nlohmann::json::parse(r.out)["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
  r = aws({"sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = nlohmann::json::parse(r.out)["Messages"][0];
  EXPECT_EQ(m["Body"], "hello");
  r = aws({"sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = aws({"sqs", "receive-message", "--queue-url", url});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // no messages: awscli prints nothing
  r = aws({"sqs", "get-queue-url", "--queue-name", "missing"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("AWS.SimpleQueueService.NonExistentQueue"), std::string::npos) << r.err;
}

// boto3 (Query protocol for SQS in Debian's botocore): a launch hook whose notification drives completion by
// token, the scale-out asked through the control endpoint, a batch delete, and the error for a stale token.
TEST_F(AwsClientsTest, Boto3LaunchHookThroughSqs) {
  auto r = python(R"(
import boto3, botocore, json, os, urllib.request
kw = dict(endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
sqs = boto3.client('sqs', **kw)
asg = boto3.client('autoscaling', **kw)
url = sqs.create_queue(QueueName='launches', Attributes={'VisibilityTimeout': '60'})['QueueUrl']
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
asg.put_lifecycle_hook(AutoScalingGroupName='app', LifecycleHookName='warmup',
                       LifecycleTransition='autoscaling:EC2_INSTANCE_LAUNCHING', NotificationTargetARN=arn,
                       RoleARN='arn:aws:iam::123456789012:role/hooks', DefaultResult='CONTINUE')
hook = asg.describe_lifecycle_hooks(AutoScalingGroupName='app', LifecycleHookNames=['warmup'])['LifecycleHooks'][0]
urllib.request.urlopen(urllib.request.Request(os.environ['AWS_ENDPOINT_URL'] + '/_sim/groups/app/desired',
                                              data=b'{"desired":4}', method='POST')).read()
seen, notes = [], []
while len(notes) < 1:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5).get('Messages', [])
    assert got, 'no message within 5 s'
    seen += got
    notes += [json.loads(m['Body']) for m in got if 'LifecycleActionToken' in json.loads(m['Body'])]
n = notes[0]
states = lambda: {i['InstanceId']: i['LifecycleState'] for g in asg.describe_auto_scaling_groups(
    AutoScalingGroupNames=['app'])['AutoScalingGroups'] for i in g['Instances']}
waiting = states()[n['EC2InstanceId']]
asg.record_lifecycle_action_heartbeat(AutoScalingGroupName='app', LifecycleHookName='warmup',
                                      LifecycleActionToken=n['LifecycleActionToken'])
asg.complete_lifecycle_action(AutoScalingGroupName='app', LifecycleHookName='warmup',
                              LifecycleActionToken=n['LifecycleActionToken'], LifecycleActionResult='CONTINUE')
deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
    {'Id': 'm%d' % i, 'ReceiptHandle': m['ReceiptHandle']} for i, m in enumerate(seen)])
try:
    asg.complete_lifecycle_action(AutoScalingGroupName='app', LifecycleHookName='warmup',
                                  LifecycleActionToken=n['LifecycleActionToken'], LifecycleActionResult='CONTINUE')
    err = None
except botocore.exceptions.ClientError as e:
    err = [e.response['Error']['Code'], e.response['Error']['Message']]
print(json.dumps({'hook': hook, 'note': n, 'waiting': waiting, 'deleted': len(deleted['Successful']),
                  'failed': len(deleted.get('Failed', [])), 'seen': len(seen), 'error': err}))
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["hook"]["HeartbeatTimeout"], 3600);
  EXPECT_EQ(j["hook"]["GlobalTimeout"], 172800);
  EXPECT_EQ(j["hook"]["DefaultResult"], "CONTINUE");
  EXPECT_EQ(j["note"]["LifecycleTransition"], "autoscaling:EC2_INSTANCE_LAUNCHING");
  EXPECT_EQ(j["note"]["Origin"], "EC2");
  EXPECT_EQ(j["note"]["Destination"], "AutoScalingGroup");
  EXPECT_EQ(j["waiting"], "Pending:Wait");
  EXPECT_EQ(j["deleted"], j["seen"]);
  EXPECT_EQ(j["failed"], 0);
  std::string token = j["note"]["LifecycleActionToken"];
  EXPECT_EQ(j["error"],
            nlohmann::json::array({"ValidationError", "No active Lifecycle Action found with token " + token}));
  std::string id = j["note"]["EC2InstanceId"];
  EXPECT_TRUE(wait_until([&] {
    for (const auto& i : sim_->instances("app"))
      if (i.id == id) return i.lifecycle == "InService";
    return false;
  }));
  auto a = sim_->lifecycle_actions(id).at(0);
  EXPECT_EQ(a.heartbeats, 1);
  EXPECT_EQ(a.result, "CONTINUE");
}

// CloudWatch: awscli sends PutMetricData (a value, a statistic set, high resolution) in the Query protocol and
// reads back the sums and the unit with GetMetricStatistics; what haproxy-asg's own encoder sends is parsed by
// botocore the same way (the daemon's datums are checked in cloudwatch_e2e_test).
TEST_F(AwsClientsTest, AwscliPutsAndReadsMetrics) {
  auto now = std::chrono::system_clock::now();
  auto stamp = [](std::chrono::system_clock::time_point t) {
    return fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(
                                        std::chrono::floor<std::chrono::minutes>(t))));
  };
  auto minute = stamp(now - std::chrono::minutes(2));
  auto r = aws({"cloudwatch", "put-metric-data", "--namespace", "HAProxyASG", "--metric-data",
                R"([{"MetricName":"RequestCount","Dimensions":[{"Name":"AutoScalingGroupName","Value":"app"}],)"
                R"("Timestamp":")" + minute + R"(","Value":1200,"Unit":"Count","StorageResolution":1},)"
                R"({"MetricName":"RequestCount","Dimensions":[{"Name":"AutoScalingGroupName","Value":"app"}],)"
                R"("Timestamp":")" + minute + R"(","StatisticValues":{"SampleCount":2,"Sum":34,"Minimum":10,)"
                R"("Maximum":24},"Unit":"Count"}])"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto points = sim_->metric_data("HAProxyASG");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].storage_resolution, 1);
  EXPECT_EQ(points[1].sample_count, 2);

  r = aws({"cloudwatch", "get-metric-statistics", "--namespace", "HAProxyASG", "--metric-name", "RequestCount",
           "--dimensions", "Name=AutoScalingGroupName,Value=app", "--start-time", stamp(now - std::chrono::hours(1)),
           "--end-time", stamp(now + std::chrono::minutes(5)), "--period", "60", "--statistics", "Sum",
           "SampleCount", "Maximum"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["Label"], "RequestCount");
  ASSERT_EQ(j["Datapoints"].size(), 1u) << r.out;
  const auto& dp = j["Datapoints"][0];
  EXPECT_DOUBLE_EQ(dp["Sum"].get<double>(), 1234.0);
  EXPECT_DOUBLE_EQ(dp["SampleCount"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(dp["Maximum"].get<double>(), 1200.0);
  EXPECT_EQ(dp["Unit"], "Count");

  // AWS's refusals, as awscli reads them.
  r = aws({"cloudwatch", "put-metric-data", "--namespace", "AWS/EC2", "--metric-name", "X", "--value", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("(InvalidParameterValue) when calling the PutMetricData operation"), std::string::npos)
      << r.err;
  r = aws({"cloudwatch", "put-metric-data", "--namespace", "HAProxyASG", "--metric-data",
           R"([{"MetricName":"X","Value":1,"StatisticValues":{"SampleCount":1,"Sum":1,"Minimum":1,"Maximum":1}}])"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("(InvalidParameterCombination)"), std::string::npos) << r.err;
}

// haproxy-asg's PutMetricData encoding, checked by botocore's own Query serializer: the same datums sent with
// boto3 and with haproxy-asg's encoder (put_metric_data_params) produce the same form parameters.
TEST_F(AwsClientsTest, Boto3SerializesPutMetricDataAsHaproxyAsgDoes) {
  auto r = python(R"(
import json
from botocore.session import get_session
from botocore.serialize import create_serializer
import datetime
model = get_session().get_service_model('cloudwatch')
s = create_serializer('query')
req = s.serialize_to_request({'Namespace': 'HAProxyASG', 'MetricData': [
  {'MetricName': 'RequestCount', 'Dimensions': [{'Name': 'AutoScalingGroupName', 'Value': 'app'}],
   'Timestamp': datetime.datetime(2026, 12, 1, 15, 0, 0, 250000, tzinfo=datetime.timezone.utc),
   'Value': 1234.0, 'Unit': 'Count', 'StorageResolution': 1},
  {'MetricName': 'QueuedRequests', 'Dimensions': [{'Name': 'AutoScalingGroupName', 'Value': 'app'}],
   'Timestamp': datetime.datetime(2026, 12, 1, 15, 0, 0, tzinfo=datetime.timezone.utc),
   'StatisticValues': {'SampleCount': 5.0, 'Sum': 7.5, 'Minimum': 0.0, 'Maximum': 3.0}, 'Unit': 'Count',
   'StorageResolution': 60}]}, model.operation_model('PutMetricData'))
print(json.dumps(req['body']))
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto botocore = nlohmann::json::parse(r.out);
  using namespace std::chrono;
  aws::MetricDatum a{"RequestCount", {{"AutoScalingGroupName", "app"}},
                     sys_days{year{2026} / 12 / 1} + hours{15} + milliseconds{250}, 1234.0, std::nullopt, "Count", 1};
  aws::MetricDatum b{"QueuedRequests", {{"AutoScalingGroupName", "app"}}, sys_days{year{2026} / 12 / 1} + hours{15},
                     std::nullopt, aws::StatisticSet{5, 7.5, 0, 3}, "Count", 60};
  auto ours = aws::put_metric_data_params("HAProxyASG", {a, b});
  std::map<std::string, std::string> mine(ours.begin(), ours.end());
  for (auto& [k, v] : botocore.items()) {
    if (k == "Action" || k == "Version") continue;
    ASSERT_TRUE(mine.contains(k)) << "haproxy-asg does not send " << k;
    std::string theirs = v.is_string() ? v.get<std::string>() : v.dump();
    // Numbers: the same value, whatever the spelling ("1234.0" vs "1234"); timestamps: the same instant.
    if (k.find("Timestamp") != std::string::npos) {
      EXPECT_EQ(aws::parse_iso8601_utc(mine[k]), aws::parse_iso8601_utc(theirs)) << k;
    } else if (!theirs.empty() && (std::isdigit(static_cast<unsigned char>(theirs[0])) != 0)) {
      EXPECT_DOUBLE_EQ(std::stod(mine[k]), std::stod(theirs)) << k;
    } else {
      EXPECT_EQ(mine[k], theirs) << k;
    }
    mine.erase(k);
  }
  EXPECT_TRUE(mine.empty()) << "haproxy-asg sends what botocore does not, e.g. " << mine.begin()->first;
}

}  // namespace
}  // namespace hasg::test
