// The EC2 instance metadata service, IMDSv2 only: a session token from PUT /latest/api/token, then GETs carrying
// it. IMDSv1 is never used (it is what SSRF attacks steal credentials through).
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "aws/clock.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/sigv4.h"
#include "util/result.h"

namespace hasg::aws {

class ImdsClient {
 public:
  // `endpoint` like "http://169.254.169.254" (no trailing slash needed).
  ImdsClient(HttpClient& http, std::string endpoint, const Clock& clock,
             std::chrono::seconds token_ttl = std::chrono::hours(6));

  // From AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254); nullopt when
  // AWS_EC2_METADATA_DISABLED is "true".
  static std::optional<std::string> endpoint_from(const Environment& env);

  // GET /latest/<path> with a valid token (fetched or refreshed as needed; a 401 refetches the token once).
  Result<std::string> get(const std::string& path);
  Result<std::string> region();                 // meta-data/placement/region
  Result<Credentials> instance_credentials();   // role name, then its credentials JSON (with Expiration)

 private:
  Result<std::string> token();
  HttpClient& http_;
  std::string endpoint_;
  const Clock& clock_;
  std::chrono::seconds token_ttl_;
  std::string token_;
  std::chrono::system_clock::time_point token_expires_{};
};

// Decodes the credentials JSON IMDS serves for `role` (Code "Success", AccessKeyId, SecretAccessKey, Token,
// Expiration); pure, for tests and the fuzzer. An "ImdsError" saying what is missing or wrong otherwise.
Result<Credentials> parse_instance_credentials(const std::string& body, const std::string& role);

}  // namespace hasg::aws
