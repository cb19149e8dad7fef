#include "aws/query_client.h"

#include <pugixml.hpp>

#include <algorithm>

#include "aws/endpoints.h"
#include "aws/sigv4.h"
#include "util/backoff.h"
#include "util/strings.h"

namespace hasg::aws {

void ApiStats::record(const std::string& operation, const std::string& outcome, int attempts) {
  std::lock_guard lock(mu_);
  ++calls_[{operation, outcome}];
  requests_ += static_cast<uint64_t>(attempts);
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

std::pair<std::string, std::string> parse_error_body(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_string(body.c_str())) return {};
  // Auto Scaling (Query): <ErrorResponse><Error><Code/><Message/></Error></ErrorResponse>
  // EC2:                  <Response><Errors><Error><Code/><Message/></Error></Errors></Response>
  pugi::xml_node err = doc.child("ErrorResponse").child("Error");
  if (!err) err = doc.child("Response").child("Errors").child("Error");
  if (!err) return {};
  return {err.child_value("Code"), err.child_value("Message")};
}

std::string form_encode(const QueryParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += uri_encode(k);
    out += '=';
    out += uri_encode(v);
  }
  return out;
}

QueryClient::QueryClient(HttpClient& http, CredentialsProvider& credentials, const Clock& clock,
                         ServiceEndpoint endpoint, RetryPolicy retry, ApiStats* stats)
    : http_(http),
      credentials_(credentials),
      clock_(clock),
      endpoint_(std::move(endpoint)),
      retry_(retry),
      stats_(stats),
      rng_(std::random_device{}()) {}

Result<std::string> QueryClient::attempt(const std::string& body, long* status) {
  *status = 0;
  auto creds = credentials_.get();
  if (!creds) return creds.error();
  auto url = parse_url(endpoint_.url);
  if (!url) return url.error();

  SignableRequest req;
  req.method = "POST";
  req.path = url->path;
  req.headers = {{"Host", url->host_header()},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
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
  auto resp = http_.send(http);
  if (!resp) return resp.error();
  *status = resp->status;
  if (resp->status >= 200 && resp->status < 300) return std::move(resp->body);

  auto [code, message] = parse_error_body(resp->body);
  std::string request_id = resp->header("x-amzn-RequestId");
  if (code.empty()) {
    code = resp->status >= 500 ? "ServiceUnavailable" : "HttpError";
    message = "unexpected HTTP " + std::to_string(resp->status) + " answer";
    std::string snippet = resp->body.substr(0, 200);
    if (!snippet.empty()) message += ": " + snippet;
  }
  std::string full = code + ": " + message + " (HTTP " + std::to_string(resp->status);
  if (!request_id.empty()) full += ", request id " + request_id;
  full += ")";
  return make_error(code, full, is_retryable(code, resp->status));
}

Result<std::string> QueryClient::call(const std::string& action, const QueryParams& params) {
  QueryParams all = {{"Action", action}, {"Version", endpoint_.api_version}};
  all.insert(all.end(), params.begin(), params.end());
  const std::string body = form_encode(all);

  Error last;
  int attempts = 0;
  for (int i = 0; i < std::max(1, retry_.max_attempts); ++i) {
    if (i > 0) {
      clock_.sleep_for(full_jitter(retry_.base_delay, retry_.max_delay, i - 1, rng_));
    }
    ++attempts;
    long status = 0;
    auto r = attempt(body, &status);
    if (r) {
      if (stats_) stats_->record(action, "ok", attempts);
      return r;
    }
    last = r.error();
    if (!last.retryable) break;
  }
  if (stats_) stats_->record(action, last.code.empty() ? "error" : last.code, attempts);
  std::string msg = endpoint_.display_name + " " + action + " failed";
  if (attempts > 1) msg += " after " + std::to_string(attempts) + " attempts";
  msg += ": " + (last.message.starts_with(last.code) ? last.message : last.to_string());
  return make_error(last.code, msg, last.retryable);
}

}  // namespace hasg::aws
