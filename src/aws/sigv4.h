// AWS Signature Version 4, header-based signing (what the SDKs do for Query API calls), and its verification
// (what the simulator does to every request). No Debian library signs SigV4 requests, so it is written here,
// following https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html and checked against the
// AWS test suite in ../shared/testdata/sigv4 and against botocore.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/http.h"
#include "util/result.h"

namespace hasg::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;
  std::string source;  // where they came from, for logs: "environment", "shared file (profile x)", "imds (role r)"

  bool empty() const { return access_key_id.empty() || secret_access_key.empty(); }
};

// A request as it will go on the wire (or as it came off the wire, for verification).
struct SignableRequest {
  std::string method;   // "GET", "POST"
  std::string path;     // raw path as sent, e.g. "/" or "/example/.."
  std::string query;    // raw query string after '?', without the '?'; may be empty
  Headers headers;      // as sent, in order, names in any case; must contain Host
  std::string body;
};

struct SigningParams {
  std::string region;
  std::string service;  // "autoscaling", "ec2"
  std::chrono::system_clock::time_point time;
  bool normalize_path = true;       // false only for S3; true for every service used here
  bool sign_body_header = false;    // add x-amz-content-sha256 (S3 style); the Query APIs do not need it
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string authorization;  // the full Authorization header value
  Headers added_headers;      // headers the signer added and the request must carry: X-Amz-Date,
                              // X-Amz-Security-Token (when a session token), X-Amz-Content-Sha256 (when asked)
};

// Signs `request`. The added headers are signed as well, exactly as the SDKs do.
Signature sign(const SignableRequest& request, const Credentials& credentials, const SigningParams& params);

// Convenience for clients: signs and returns the headers to send (the request's own, the added ones, Authorization).
Headers signed_headers(const SignableRequest& request, const Credentials& credentials, const SigningParams& params);

// The parts of an Authorization header.
struct AuthorizationHeader {
  std::string access_key_id;
  std::string date;     // YYYYMMDD of the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
Result<AuthorizationHeader> parse_authorization(std::string_view value);

// Verifies a received request the way AWS does. `secret_for` maps an access key id to its secret (nullopt: unknown
// key). Errors carry the AWS codes a real endpoint answers: "MissingAuthenticationToken" / "IncompleteSignature"
// (no or malformed Authorization), "InvalidClientTokenId" (unknown key), "SignatureDoesNotMatch", and
// "SignatureDoesNotMatch" too when X-Amz-Date is more than 15 minutes from `now`.
struct VerifiedRequest {
  std::string access_key_id;
  std::string region;
  std::string service;
};
Result<VerifiedRequest> verify(const SignableRequest& request,
                               const std::function<std::optional<std::string>(const std::string&)>& secret_for,
                               std::chrono::system_clock::time_point now);

// Helpers also used elsewhere.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string hex(std::string_view bytes);
std::string amz_date(std::chrono::system_clock::time_point t);  // 20150830T123600Z

}  // namespace hasg::aws
