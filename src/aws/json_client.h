// A client of one AWS JSON-protocol service (SQS; awsJson1_0): POST / with Content-Type
// application/x-amz-json-1.0 and X-Amz-Target <prefix>.<Operation>, a JSON body in and out, errors as JSON with
// "__type". Signing, retries and statistics are the ServiceCaller's (aws/service_call.h), as for the Query client.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/service_call.h"
#include "util/result.h"

namespace hasg::aws {

struct JsonProtocol {
  std::string target_prefix;      // "AmazonSQS"
  std::string json_version = "1.0";
  // Services that moved from the Query protocol (SQS) mark requests with "x-amzn-query-mode: true", as the SDKs
  // do; they then answer errors with the Query-era code in an x-amzn-query-error header.
  bool query_compatible = false;
};

// Decodes a JSON error answer into (code, message): the x-amzn-query-error header's code when present
// ("AWS.SimpleQueueService.NonExistentQueue;Sender"), else "__type" without its namespace
// ("com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist") or trailing ":..." part; the message from
// "message" or "Message". Empty code when the answer is not an AWS JSON error.
std::pair<std::string, std::string> parse_json_error(const HttpResponse& response);

class JsonClient {
 public:
  JsonClient(HttpClient& http, CredentialsProvider& credentials, const Clock& clock, ServiceEndpoint endpoint,
             JsonProtocol protocol, RetryPolicy retry = {}, ApiStats* stats = nullptr);

  // Calls `operation` with `input` (a JSON object); returns the 2xx answer's JSON ({} for an empty body). Errors
  // name the service, operation, AWS code and message, e.g. "SQS ReceiveMessage failed:
  // AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist. (HTTP 400, request id ...)".
  // Throttling, 5xx and transport errors are retried up to the policy's attempts; an answer that is not JSON is
  // a "MalformedResponse" error.
  Result<nlohmann::json> call(const std::string& operation, const nlohmann::json& input);

  const ServiceEndpoint& endpoint() const { return caller_.endpoint(); }
  const RetryPolicy& retry() const { return caller_.retry(); }

 private:
  ServiceCaller caller_;
  JsonProtocol protocol_;
};

}  // namespace hasg::aws
