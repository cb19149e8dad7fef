// Everything needed to talk to AWS, set up from the environment the way the SDKs do: the credential chain, the
// region, each service's endpoint, and one client per use of AWS. Each use (discovery, lifecycle actions, events,
// metrics) has its own HTTP connection and its own retries and timeouts, so that a slow call of one (an SQS long
// poll waits up to 20 s by design) never holds up another. Credentials, region, IMDS and the call statistics are
// shared: the credential provider and ApiStats are thread-safe, and each client may live on its own thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/imds.h"
#include "aws/json_client.h"
#include "aws/query_client.h"

namespace hasg::aws {

// Retries and timeouts of each use.
struct ClientPolicies {
  // DescribeAutoScalingGroups, DescribeInstances: the cycle waits for them; as before the split.
  RetryPolicy discovery{};
  // CompleteLifecycleAction, RecordLifecycleActionHeartbeat, DescribeLifecycleHooks: small, fast calls that the
  // next cycle repeats anyway; a short timeout and few retries keep a cycle from stalling on them.
  RetryPolicy lifecycle{3, std::chrono::milliseconds(100), std::chrono::milliseconds(1'000),
                        std::chrono::milliseconds(3'000)};
  // SQS: the request timeout must exceed the 20 s long poll (WaitTimeSeconds), or every quiet poll times out.
  RetryPolicy events{3, std::chrono::milliseconds(200), std::chrono::milliseconds(5'000),
                     std::chrono::milliseconds(30'000)};
  // CloudWatch PutMetricData, sent off the main loop.
  RetryPolicy metrics{3, std::chrono::milliseconds(200), std::chrono::milliseconds(2'000),
                      std::chrono::milliseconds(5'000)};
};

// What an HTTP client is for; each gets its own (its own connection, its own lock).
enum class ClientUse { Discovery, Lifecycle, Events, EventAcks, Metrics, Imds };
std::string_view to_string(ClientUse use);

struct ContextOptions {
  ClientPolicies policies;
  // Makes the HTTP client of one use; default: libcurl. Tests pass in-memory fakes.
  std::function<std::unique_ptr<HttpClient>(ClientUse)> make_http;
  const Clock* clock = nullptr;  // default: the system clock
};

inline constexpr const char* kCloudWatchVersion = "2010-08-01";

class AwsContext {
 public:
  // Resolves the region and every endpoint now, so a misconfiguration (a bad AWS_ENDPOINT_URL_SQS, say) is an
  // error at start naming the variable; credentials are fetched on the first call. The context keeps `env` (the
  // credential chain reads it again when it refreshes).
  // Endpoint overrides, as the SDKs name them (AWS_ENDPOINT_URL_<serviceId>): AWS_ENDPOINT_URL_AUTO_SCALING,
  // AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_CLOUDWATCH; then AWS_ENDPOINT_URL.
  static Result<std::unique_ptr<AwsContext>> from_environment(std::unique_ptr<Environment> env,
                                                              ContextOptions options = {});
  ~AwsContext();
  AwsContext(const AwsContext&) = delete;
  AwsContext& operator=(const AwsContext&) = delete;

  // Discovery: Auto Scaling and EC2 describe calls (one HTTP client for both: one cycle calls them in turn).
  QueryClient& discovery_autoscaling() { return *discovery_autoscaling_; }
  QueryClient& discovery_ec2() { return *discovery_ec2_; }
  // Auto Scaling lifecycle calls (CompleteLifecycleAction, RecordLifecycleActionHeartbeat, DescribeLifecycleHooks).
  QueryClient& lifecycle() { return *lifecycle_; }
  // CloudWatch (Query protocol, which CloudWatch still serves beside its newer ones).
  QueryClient& cloudwatch() { return *cloudwatch_; }
  // SQS (JSON protocol; events: its request timeout outlasts the 20 s long poll).
  JsonClient& sqs() { return *sqs_; }
  // SQS for short calls beside the long poll (DeleteMessageBatch): its own connection, short timeouts.
  JsonClient& sqs_acks() { return *sqs_acks_; }
  // Ends the events client's long poll in flight (at shutdown); the events clients are not used again.
  void cancel_events() {
    events_http_->cancel();
    event_acks_http_->cancel();
  }

  // This instance's id from IMDS (the default of cluster.node_id); an error when IMDS is disabled or silent.
  Result<std::string> instance_id();

  ApiStats& stats() { return stats_; }
  CredentialsProvider& credentials() { return *credentials_; }
  const Clock& clock() const { return *clock_; }
  const std::string& region() const { return region_; }
  const ClientPolicies& policies() const { return policies_; }

 private:
  AwsContext() = default;
  std::unique_ptr<Environment> env_;
  const Clock* clock_ = nullptr;
  ClientPolicies policies_;
  std::unique_ptr<HttpClient> imds_http_;  // IMDS: its own connection, its own short timeouts
  std::unique_ptr<ImdsClient> imds_;
  std::unique_ptr<CredentialsProvider> credentials_;
  std::string region_;
  ApiStats stats_;
  std::unique_ptr<HttpClient> discovery_http_, lifecycle_http_, events_http_, event_acks_http_, metrics_http_;
  std::unique_ptr<QueryClient> discovery_autoscaling_, discovery_ec2_, lifecycle_, cloudwatch_;
  std::unique_ptr<JsonClient> sqs_, sqs_acks_;
};

}  // namespace hasg::aws
