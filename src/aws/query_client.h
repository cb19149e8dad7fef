// A client of one AWS Query-protocol service (Auto Scaling, EC2, CloudWatch): form-encoded POST, XML answers and
// errors; signing, retries and statistics are the ServiceCaller's (aws/service_call.h).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/service_call.h"
#include "util/result.h"

namespace hasg::aws {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Decodes an AWS Query/EC2 error body into (code, message); empty code when the body is not an AWS error.
std::pair<std::string, std::string> parse_error_body(const std::string& body);

class QueryClient {
 public:
  QueryClient(HttpClient& http, CredentialsProvider& credentials, const Clock& clock, ServiceEndpoint endpoint,
              RetryPolicy retry = {}, ApiStats* stats = nullptr);

  // Calls `action` with `params`; returns the XML body of the 2xx answer. Errors name the service, action, AWS
  // code and message, e.g. "Auto Scaling DescribeAutoScalingGroups failed: SignatureDoesNotMatch: The request
  // signature we calculated does not match ... (HTTP 403, request id ...)". Throttling, 5xx and transport errors
  // are retried up to the policy's attempts. `decode`, when given, reads a 2xx answer inside the call: an answer it
  // refuses (MalformedResponse: cut short, not the document expected) fails the call as AWS's errors do, so the
  // statistics and their listener count it as a failure of the call, not as a success.
  Result<std::string> call(const std::string& action, const QueryParams& params,
                           const std::function<Status(const std::string&)>& decode = nullptr);

  const ServiceEndpoint& endpoint() const { return caller_.endpoint(); }
  const RetryPolicy& retry() const { return caller_.retry(); }

 private:
  Result<std::string> attempt(const std::string& body, const std::function<Status(const std::string&)>& decode);

  ServiceCaller caller_;
};

// Form-encodes params the way the SDKs do (RFC 3986 percent-encoding, '&'-joined, in the given order).
std::string form_encode(const QueryParams& params);

}  // namespace hasg::aws
