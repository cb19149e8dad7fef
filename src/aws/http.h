// The HTTP edge. Everything that talks to AWS (Query APIs, IMDS) goes through HttpClient, so that unit tests can
// answer from memory and integration tests from the simulator on loopback.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/result.h"

namespace hasg::aws {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: scheme://host[:port]/path[?query]
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{10'000};  // whole request, connect included
};

struct HttpResponse {
  long status = 0;
  Headers headers;
  std::string body;

  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A transport failure (refused, reset, timeout, TLS) is an Error with code "ConnectionError" or "RequestTimeout",
  // retryable. Any HTTP status, 4xx and 5xx included, is a response.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  // Ends a request in flight (and any later one) with an error, from any thread: how a 20 s long poll is stopped
  // at shutdown. For good: the client is not used again.
  virtual void cancel() {}
};

// libcurl-backed client. Keeps one easy handle so connections are reused across requests.
std::unique_ptr<HttpClient> make_curl_http_client();

}  // namespace hasg::aws
