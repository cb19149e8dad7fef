// A client of one AWS Query-protocol service (Auto Scaling, EC2): form-encoded POST, SigV4, XML answers, AWS
// error decoding, and retries with exponential backoff and full jitter on throttling, 5xx and timeouts.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "util/result.h"

namespace hasg::aws {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct ServiceEndpoint {
  std::string url;          // e.g. https://autoscaling.us-east-1.amazonaws.com
  std::string region;
  std::string signing_name; // "autoscaling", "ec2"
  std::string api_version;  // "2011-01-01", "2016-11-15"
  std::string display_name; // "Auto Scaling", "EC2"
};

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5'000};
  std::chrono::milliseconds request_timeout{10'000};
};

// Counts calls by operation and outcome ("ok", or the AWS / transport error code of the final attempt), and
// attempts. Read by the daemon's /metrics and by the discovery tests that count API calls.
class ApiStats {
 public:
  void record(const std::string& operation, const std::string& outcome, int attempts);
  // (operation, outcome) -> calls
  std::map<std::pair<std::string, std::string>, uint64_t> calls() const;
  uint64_t total_requests() const;  // HTTP requests sent, retries included
  uint64_t calls_of(const std::string& operation) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> calls_;
  uint64_t requests_ = 0;
};

// Whether an AWS error code (or HTTP status) is worth retrying.
bool is_retryable(const std::string& code, long http_status);

// Decodes an AWS Query/EC2 error body into (code, message); empty code when the body is not an AWS error.
std::pair<std::string, std::string> parse_error_body(const std::string& body);

class QueryClient {
 public:
  QueryClient(HttpClient& http, CredentialsProvider& credentials, const Clock& clock, ServiceEndpoint endpoint,
              RetryPolicy retry = {}, ApiStats* stats = nullptr);

  // Calls `action` with `params`; returns the XML body of the 2xx answer. Errors name the service, action, AWS
  // code and message, e.g. "Auto Scaling DescribeAutoScalingGroups failed: SignatureDoesNotMatch: The request
  // signature we calculated does not match ... (HTTP 403, request id ...)". Throttling, 5xx and transport errors
  // are retried up to the policy's attempts.
  Result<std::string> call(const std::string& action, const QueryParams& params);

  const ServiceEndpoint& endpoint() const { return endpoint_; }

 private:
  Result<std::string> attempt(const std::string& body, long* status);

  HttpClient& http_;
  CredentialsProvider& credentials_;
  const Clock& clock_;
  ServiceEndpoint endpoint_;
  RetryPolicy retry_;
  ApiStats* stats_;
  std::mt19937_64 rng_;
};

// Form-encodes params the way the SDKs do (RFC 3986 percent-encoding, '&'-joined, in the given order).
std::string form_encode(const QueryParams& params);

}  // namespace hasg::aws
