// In-memory edges for the AWS module's unit tests: a clock that only moves when told, an HTTP client answering from
// routes, and an IMDSv2 fake on top of it. Nothing here opens a socket, so no test can reach 169.254.169.254.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aws/clock.h"
#include "aws/http.h"
#include "util/strings.h"

namespace hasg::aws::test {

// A UTC wall-clock time, for readable test timelines.
inline std::chrono::system_clock::time_point utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

class FakeClock : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point t = utc(2026, 11, 24, 6)) : now_(t) {}
  std::chrono::system_clock::time_point now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void sleep_for(std::chrono::milliseconds d) const override { advance(d); }
  void set(std::chrono::system_clock::time_point t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  void advance(std::chrono::system_clock::duration d) const {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  mutable std::chrono::system_clock::time_point now_;
};

// Case-insensitive lookup in a request's or response's headers (empty when absent).
inline std::string find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

inline HttpResponse response(long status, std::string body = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Answers "METHOD URL" from registered handlers; anything else fails like a closed port.
class FakeHttpClient : public HttpClient {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  void on(const std::string& method, const std::string& url, Handler h) {
    std::lock_guard lock(mu_);
    routes_[method + " " + url] = std::move(h);
  }
  void respond(const std::string& method, const std::string& url, long status, std::string body = {}) {
    on(method, url, [status, body](const HttpRequest&) -> Result<HttpResponse> { return response(status, body); });
  }

  Result<HttpResponse> send(const HttpRequest& req) override {
    Handler h;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
      auto it = routes_.find(req.method + " " + req.url);
      if (it == routes_.end())
        return make_error("ConnectionError", "fake: nothing listens for " + req.method + " " + req.url, true);
      h = it->second;
    }
    return h(req);
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  void clear_requests() {
    std::lock_guard lock(mu_);
    requests_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Handler> routes_;
  std::vector<HttpRequest> requests_;
};

// IMDSv2 as EC2 serves it: PUT /latest/api/token issues a token for the asked TTL; every GET must carry a live one
// (401 otherwise); IMDSv1 requests (no token) get 401 too. Registered on a FakeHttpClient.
class FakeImds {
 public:
  explicit FakeImds(FakeHttpClient& http, const Clock& clock, std::string endpoint = "http://169.254.169.254")
      : clock_(clock), base_(std::move(endpoint) + "/latest/") {
    http.on("PUT", base_ + "api/token", [this](const HttpRequest& r) { return put_token(r); });
    for (const std::string path : {"meta-data/placement/region", "meta-data/iam/security-credentials/"})
      http.on("GET", base_ + path, [this, path](const HttpRequest& r) { return get(r, path); });
    http_ = &http;
  }

  // The role's credentials document; its route is added on first use.
  void set_role(const std::string& role, const std::string& json) {
    std::lock_guard lock(mu_);
    role_ = role;
    creds_json_ = json;
    std::string path = "meta-data/iam/security-credentials/" + role;
    http_->on("GET", base_ + path, [this, path](const HttpRequest& r) { return get(r, path); });
  }
  static std::string credentials_json(const std::string& key_id, const std::string& expiration,
                                      const std::string& code = "Success") {
    return R"({"Code":")" + code + R"(","LastUpdated":"2026-11-24T06:00:00Z","Type":"AWS-HMAC","AccessKeyId":")" +
           key_id + R"(","SecretAccessKey":"secret-)" + key_id + R"(","Token":"token-)" + key_id +
           R"(","Expiration":")" + expiration + R"("})";
  }

  void set_region(std::string r) {
    std::lock_guard lock(mu_);
    region_ = std::move(r);
  }
  // Forgets every token, as after an instance stop/start: the next GET gets a 401.
  void revoke_tokens() {
    std::lock_guard lock(mu_);
    tokens_.clear();
  }
  // Makes every answer a 500 (or, with 0, a connection failure) until cleared with fail_with(-1).
  void fail_with(long status) {
    std::lock_guard lock(mu_);
    fail_status_ = status;
  }
  int tokens_issued() const {
    std::lock_guard lock(mu_);
    return issued_;
  }
  int gets() const {
    std::lock_guard lock(mu_);
    return gets_;
  }

 private:
  Result<HttpResponse> put_token(const HttpRequest& r) {
    std::lock_guard lock(mu_);
    if (fail_status_ == 0) return make_error("ConnectionError", "fake IMDS down", true);
    if (fail_status_ > 0) return response(fail_status_);
    std::string ttl = find_header(r.headers, "X-aws-ec2-metadata-token-ttl-seconds");
    if (ttl.empty()) return response(400);
    std::string tok = "tok-" + std::to_string(++issued_);
    tokens_[tok] = clock_.now() + std::chrono::seconds(std::stol(ttl));
    return response(200, tok);
  }

  Result<HttpResponse> get(const HttpRequest& r, const std::string& path) {
    std::lock_guard lock(mu_);
    ++gets_;
    if (fail_status_ == 0) return make_error("ConnectionError", "fake IMDS down", true);
    if (fail_status_ > 0) return response(fail_status_);
    auto it = tokens_.find(find_header(r.headers, "X-aws-ec2-metadata-token"));
    if (it == tokens_.end() || clock_.now() >= it->second) return response(401);
    if (path == "meta-data/placement/region") return region_.empty() ? response(404) : response(200, region_);
    if (path == "meta-data/iam/security-credentials/") return role_.empty() ? response(404) : response(200, role_);
    if (!role_.empty() && path == "meta-data/iam/security-credentials/" + role_) return response(200, creds_json_);
    return response(404);
  }

  const Clock& clock_;
  std::string base_;
  FakeHttpClient* http_ = nullptr;
  mutable std::mutex mu_;
  std::map<std::string, std::chrono::system_clock::time_point> tokens_;
  std::string role_, creds_json_, region_;
  long fail_status_ = -1;
  int issued_ = 0;
  int gets_ = 0;
};

}  // namespace hasg::aws::test
