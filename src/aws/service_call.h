// What every AWS protocol client (Query, JSON) shares: where the service is, signing and sending one POST, the Error
// for an error answer, retries with exponential backoff and full jitter on throttling, 5xx and timeouts, and the
// call statistics. The protocol clients only build the body and decode the answers.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <utility>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "util/result.h"

namespace hasg::aws {

struct ServiceEndpoint {
  std::string url;          // e.g. https://autoscaling.us-east-1.amazonaws.com
  std::string region;
  std::string signing_name; // "autoscaling", "ec2", "sqs", "monitoring"
  std::string api_version;  // "2011-01-01", "2016-11-15" (sent by the Query protocol only)
  std::string display_name; // "Auto Scaling", "EC2", "SQS", "CloudWatch"
};

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5'000};
  std::chrono::milliseconds request_timeout{10'000};
};

// One finished call (retries done), as a listener hears it.
struct CallOutcome {
  const ServiceEndpoint& endpoint;
  const std::string& operation;
  const Error* error;  // null: the call succeeded
};

// Counts calls by operation and outcome ("ok", or the AWS / transport error code of the final attempt), and
// attempts. Read by the daemon's /metrics and by the discovery tests that count API calls. Thread-safe.
// A listener hears every finished call of every client sharing the statistics, on the caller's thread: how the
// daemon learns which AWS edge fails and works again (daemon/aws_faults.h) without each caller reporting it.
class ApiStats {
 public:
  using Listener = std::function<void(const CallOutcome&)>;
  void record(const std::string& operation, const std::string& outcome, int attempts);
  void set_listener(Listener listener);  // an empty one: none
  void finished(const CallOutcome& outcome) const;
  // (operation, outcome) -> calls
  std::map<std::pair<std::string, std::string>, uint64_t> calls() const;
  uint64_t total_requests() const;  // HTTP requests sent, retries included
  uint64_t calls_of(const std::string& operation) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> calls_;
  uint64_t requests_ = 0;
  Listener listener_;
};

// Whether an AWS error code (or HTTP status) is worth retrying.
bool is_retryable(const std::string& code, long http_status);
// Whether AWS refused the credentials themselves (ExpiredToken, InvalidClientTokenId, ...): fresh ones may work.
bool is_credentials_error(const std::string& code);

// The Error for a non-2xx answer whose body said (code, message): "code: message (HTTP 400, request id ...)",
// retryable as is_retryable says. An empty code (the body is not an AWS error) becomes "ServiceUnavailable" for a
// 5xx and "HttpError" otherwise, with the start of the body in the message.
Error error_from_response(std::string code, std::string message, const HttpResponse& response);

class ServiceCaller {
 public:
  ServiceCaller(HttpClient& http, CredentialsProvider& credentials, const Clock& clock, ServiceEndpoint endpoint,
                RetryPolicy retry, ApiStats* stats);

  // One SigV4-signed POST of `body` to the endpoint's URL: Host first, then `headers`, then the signature's
  // headers. A transport failure is an Error (retryable); any HTTP status is a response.
  Result<HttpResponse> post(const Headers& headers, const std::string& body);

  // Runs `attempt` until it succeeds, fails with an error that is not retryable, or the policy's attempts are
  // spent, sleeping a full-jitter backoff between attempts; records the call in the statistics. Credentials AWS
  // refuses (is_credentials_error) are invalidated and the call tried again, once, with fresh ones. The final error
  // names the service, operation, code and message: "Auto Scaling DescribeAutoScalingGroups failed after 3
  // attempts: Throttling: Rate exceeded (HTTP 400, request id ...)". Safe to call from several threads.
  Result<std::string> call(const std::string& operation, const std::function<Result<std::string>()>& attempt);

  const ServiceEndpoint& endpoint() const { return endpoint_; }
  const RetryPolicy& retry() const { return retry_; }

 private:
  HttpClient& http_;
  CredentialsProvider& credentials_;
  const Clock& clock_;
  ServiceEndpoint endpoint_;
  RetryPolicy retry_;
  ApiStats* stats_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace hasg::aws
