#include "daemon/aws_faults.h"

#include <algorithm>

#include "util/strings.h"

namespace hasg::daemon {
namespace {

// IAM refused the call (each service names it its own way; EC2: UnauthorizedOperation).
bool is_denied(std::string_view code) { return code.starts_with("AccessDenied") || code == "UnauthorizedOperation"; }

bool one_of(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (auto c : codes)
    if (code == c) return true;
  return false;
}

bool is_throttling(std::string_view code) {
  return one_of(code, {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
                       "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled", "SlowDown",
                       "EC2ThrottledException", "BandwidthLimitExceeded"});
}

// IAM's action prefix: CloudWatch signs as "monitoring" but its actions are cloudwatch:*.
std::string iam_prefix(std::string_view signing_name) {
  return signing_name == "monitoring" ? "cloudwatch" : std::string(signing_name);
}

}  // namespace

std::string aws_fault_key(std::string_view signing_name, std::string_view operation) {
  if (operation == "DescribeAutoScalingGroups") return "aws.autoscaling";
  if (operation == "DescribeInstances") return "aws.ec2";
  if (one_of(operation, {"CompleteLifecycleAction", "RecordLifecycleActionHeartbeat", "DescribeLifecycleHooks",
                         "SetInstanceHealth"}))
    return "aws.lifecycle";
  if (one_of(operation, {"CreateTags", "DescribeTags"})) return "aws.cluster";
  if (signing_name == "sqs") return "aws.sqs";
  if (signing_name == "monitoring") return "aws.cloudwatch";
  return "aws." + std::string(signing_name);
}

std::optional<AwsFault> classify_aws_failure(const aws::ServiceEndpoint& endpoint, std::string_view operation,
                                             const Error& error) {
  const std::string& code = error.code;
  const std::string service = endpoint.display_name.empty() ? endpoint.signing_name : endpoint.display_name;
  const std::string key = aws_fault_key(endpoint.signing_name, operation);
  if (code == "NoCredentials" || aws::is_credentials_error(code))
    return AwsFault{"aws.credentials",
                    "give haproxy-asg valid credentials: the instance profile, AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, or the shared credentials file; new ones are picked up without a restart"};
  if (code == "SignatureDoesNotMatch" || code == "IncompleteSignature")
    return AwsFault{"aws.credentials",
                    "the secret key does not belong to the access key id: fix the credentials (picked up without a "
                    "restart)"};
  if (code == "RequestExpired" || code == "InvalidSignatureException")
    return AwsFault{"aws.credentials", "AWS refuses the request's time: set this machine's clock right (NTP)"};
  if (is_throttling(code))
    return AwsFault{key, "AWS throttles this account's " + service +
                             " calls (retried with backoff): raise `interval`, or ask AWS for a higher limit; other "
                             "tools calling " + service + " in this account share it"};
  if (is_denied(code))
    return AwsFault{key, "allow " + iam_prefix(endpoint.signing_name) + ":" + std::string(operation) +
                             " to the role or user of these credentials (packaging/iam-policy.json lists every call)"};
  if (code == "RequestTimeout" || code == "ConnectionError")
    return AwsFault{key, "the " + service +
                             " endpoint does not answer (retried with backoff): check the network path to it "
                             "(security groups, NAT or VPC endpoint, DNS) and AWS_ENDPOINT_URL* if set"};
  if (code == "MalformedResponse" || code == "HttpError")
    return AwsFault{key, "the " + service +
                             " endpoint's answers are not AWS's: check AWS_ENDPOINT_URL* and any proxy in between"};
  if (code.find("NonExistentQueue") != std::string::npos || code == "QueueDoesNotExist")
    return AwsFault{key, "events.queue_url names no queue: fix it in the YAML (SIGHUP does not change it: restart)"};
  if (error.retryable)
    return AwsFault{key, service + " fails on AWS's side (retried with backoff): nothing to change here; check the "
                                   "AWS Health Dashboard if it lasts"};
  // AWS answered and refused this one request (a hook completed elsewhere, an instance gone): its caller handles it.
  if (code == "ValidationError" || code.starts_with("InvalidParameter") || code.starts_with("InvalidInstanceID") ||
      code == "NoActiveLifecycleAction")
    return std::nullopt;
  return AwsFault{key, "AWS refuses the call: see the error"};
}

bool logged_as_fault(const Error& error) {
  return classify_aws_failure(aws::ServiceEndpoint{}, "", error).has_value();
}

void AwsFaultReporter::discovery_ok() {
  std::lock_guard lock(mu_);
  for (const char* key : {"aws.autoscaling", "aws.ec2"}) {
    failing_.erase(key);
    book_.resolve(key);
  }
}

void AwsFaultReporter::set_settle(std::chrono::milliseconds settle) {
  std::lock_guard lock(mu_);
  settle_ = settle;
}

void AwsFaultReporter::settle(Clock::time_point now) {
  for (auto it = failing_.begin(); it != failing_.end();) {
    const std::string& key = it->first;
    // Discovery's keys end only with a whole discovery working (discovery_ok), which runs every cycle.
    if (key == "aws.autoscaling" || key == "aws.ec2") {
      ++it;
      continue;
    }
    std::erase_if(it->second, [&](const auto& op) { return !op.second.denied && now - op.second.last >= settle_; });
    if (it->second.empty()) {
      book_.resolve(key, now);
      it = failing_.erase(it);
    } else {
      ++it;
    }
  }
}

void AwsFaultReporter::heard(const aws::CallOutcome& outcome, Clock::time_point now) {
  const std::string key = aws_fault_key(outcome.endpoint.signing_name, outcome.operation);
  // One lock around the bookkeeping and the book: a failure booked after another thread's success cleared its record
  // would stay booked with nothing left to resolve it.
  std::lock_guard lock(mu_);
  settle(now);  // every call of any edge is a tick: discovery's run every cycle
  std::optional<AwsFault> fault;
  if (outcome.error != nullptr) fault = classify_aws_failure(outcome.endpoint, outcome.operation, *outcome.error);
  if (outcome.error == nullptr || !fault) {
    // AWS answered: a success, or a refusal of this one request its caller handles (a hook completed elsewhere).
    book_.resolve("aws.credentials", now);  // whatever credentials it used work
    if (key == "aws.autoscaling" || key == "aws.ec2") return;  // resolved by discovery_ok()
    auto it = failing_.find(key);
    if (it == failing_.end()) return;
    it->second.erase(outcome.operation);
    if (it->second.empty()) {
      failing_.erase(it);
      book_.resolve(key, now);
    }
    return;
  }
  if (fault->key != "aws.credentials") failing_[fault->key][outcome.operation] = {is_denied(outcome.error->code), now};
  book_.report(fault->key, outcome.error->message, fault->remedy, now);
}

std::chrono::milliseconds settle_time(std::chrono::milliseconds interval, std::chrono::milliseconds cloudwatch_period) {
  return std::max({AwsFaultReporter::kLeastSettle, 3 * interval, 2 * cloudwatch_period});
}

}  // namespace hasg::daemon
