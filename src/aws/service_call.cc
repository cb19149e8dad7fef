#include "aws/service_call.h"

#include <algorithm>

#include "aws/endpoints.h"
#include "aws/sigv4.h"
#include "util/backoff.h"

namespace hasg::aws {

void ApiStats::record(const std::string& operation, const std::string& outcome, int attempts) {
  std::lock_guard lock(mu_);
  ++calls_[{operation, outcome}];
  requests_ += static_cast<uint64_t>(attempts);
}

void ApiStats::set_listener(Listener listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

void ApiStats::finished(const CallOutcome& outcome) const {
  Listener l;
  {
    std::lock_guard lock(mu_);
    l = listener_;
  }
  if (l) l(outcome);
}

std::map<std::pair<std::string, std::string>, uint64_t> ApiStats::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

uint64_t ApiStats::total_requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

uint64_t ApiStats::calls_of(const std::string& operation) const {
  std::lock_guard lock(mu_);
  uint64_t n = 0;
  for (const auto& [k, v] : calls_)
    if (k.first == operation) n += v;
  return n;
}

bool is_retryable(const std::string& code, long http_status) {
  // The throttling and transient codes the SDKs' standard retry mode retries.
  static const char* codes[] = {"Throttling",        "ThrottlingException", "ThrottledException",
                                "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
                                "RequestThrottled",  "SlowDown",  "PriorRequestNotComplete",
                                "InternalFailure",   "InternalError", "ServiceUnavailable",
                                "RequestTimeout",    "RequestTimeoutException", "ConnectionError",
                                "EC2ThrottledException", "BandwidthLimitExceeded"};
  for (const char* c : codes)
    if (code == c) return true;
  return http_status >= 500 || http_status == 429;
}

bool is_credentials_error(const std::string& code) {
  // STS-issued tokens past their expiry (ExpiredToken in Query services, ExpiredTokenException in JSON ones), keys
  // or tokens AWS does not know (deactivated, deleted, rotated away); EC2 says AuthFailure for both.
  static const char* codes[] = {"ExpiredToken",          "ExpiredTokenException", "InvalidClientTokenId",
                                "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure"};
  for (const char* c : codes)
    if (code == c) return true;
  return false;
}

Error error_from_response(std::string code, std::string message, const HttpResponse& resp) {
  std::string request_id = resp.header("x-amzn-RequestId");
  if (code.empty()) {
    code = resp.status >= 500 ? "ServiceUnavailable" : "HttpError";
    message = "unexpected HTTP " + std::to_string(resp.status) + " answer";
    std::string snippet = resp.body.substr(0, 200);
    if (!snippet.empty()) message += ": " + snippet;
  }
  std::string full = code + ": " + message + " (HTTP " + std::to_string(resp.status);
  if (!request_id.empty()) full += ", request id " + request_id;
  full += ")";
  bool retryable = is_retryable(code, resp.status);
  return make_error(std::move(code), std::move(full), retryable);
}

ServiceCaller::ServiceCaller(HttpClient& http, CredentialsProvider& credentials, const Clock& clock,
                             ServiceEndpoint endpoint, RetryPolicy retry, ApiStats* stats)
    : http_(http),
      credentials_(credentials),
      clock_(clock),
      endpoint_(std::move(endpoint)),
      retry_(retry),
      stats_(stats),
      rng_(std::random_device{}()) {}

Result<HttpResponse> ServiceCaller::post(const Headers& headers, const std::string& body) {
  auto creds = credentials_.get();
  if (!creds) return creds.error();
  auto url = parse_url(endpoint_.url);
  if (!url) return url.error();

  SignableRequest req;
  req.method = "POST";
  req.path = url->path;
  req.headers = {{"Host", url->host_header()}};
  req.headers.insert(req.headers.end(), headers.begin(), headers.end());
  req.body = body;
  SigningParams sp;
  sp.region = endpoint_.region;
  sp.service = endpoint_.signing_name;
  sp.time = clock_.now();

  HttpRequest http;
  http.method = "POST";
  http.url = endpoint_.url + (url->path == "/" && !endpoint_.url.ends_with("/") ? "/" : "");
  http.headers = signed_headers(req, *creds, sp);
  http.body = body;
  http.timeout = retry_.request_timeout;
  return http_.send(http);
}

Result<std::string> ServiceCaller::call(const std::string& operation,
                                        const std::function<Result<std::string>()>& attempt) {
  Error last;
  int attempts = 0;
  bool fresh_credentials = false;
  for (int i = 0; i < std::max(1, retry_.max_attempts); ++i) {
    if (i > 0) {
      std::chrono::milliseconds delay;
      {
        std::lock_guard lock(rng_mu_);
        delay = full_jitter(retry_.base_delay, retry_.max_delay, i - 1, rng_);
      }
      clock_.sleep_for(delay);
    }
    ++attempts;
    auto r = attempt();
    if (r) {
      if (stats_) {
        stats_->record(operation, "ok", attempts);
        stats_->finished({endpoint_, operation, nullptr});
      }
      return r;
    }
    last = r.error();
    if (!last.retryable && is_credentials_error(last.code) && !fresh_credentials) {
      // Rotated or expired under us: the chain looks again (a rotated file, the instance profile's next ones).
      fresh_credentials = true;
      credentials_.invalidate();
      continue;
    }
    if (!last.retryable) break;
  }
  if (stats_) stats_->record(operation, last.code.empty() ? "error" : last.code, attempts);
  std::string msg = endpoint_.display_name + " " + operation + " failed";
  if (attempts > 1) msg += " after " + std::to_string(attempts) + " attempts";
  msg += ": " + (last.message.starts_with(last.code) ? last.message : last.to_string());
  Error e = make_error(last.code, msg, last.retryable);
  if (stats_) stats_->finished({endpoint_, operation, &e});
  return e;
}

}  // namespace hasg::aws
