#include <curl/curl.h>

#include <atomic>
#include <charconv>
#include <mutex>

#include "aws/http.h"
#include "util/strings.h"

namespace hasg::aws {

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  auto* resp = static_cast<HttpResponse*>(user);
  if (line.starts_with("HTTP/")) {
    resp->headers.clear();  // a new response (after a 100 Continue or a redirect): keep only the last one's headers
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    auto& [name, value] = resp->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                                     std::string(trim(line.substr(colon + 1))));
    // The body's size, when told, is allocated once (a steady cycle's answer is megabytes at 5,000 instances:
    // growing by doubling copies it again and again). Capped: a wrong header costs at most this much.
    constexpr unsigned long long kMaxReserve = 64ull << 20;
    if (iequals(name, "content-length")) {
      unsigned long long bytes = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), bytes);
      if (ec == std::errc() && p == value.data() + value.size() && bytes <= kMaxReserve)
        resp->body.reserve(static_cast<size_t>(bytes));
    }
  }
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(user)->load() ? 1 : 0;  // non-zero aborts the transfer
}

class CurlHttpClient : public HttpClient {
 public:
  CurlHttpClient() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
  }
  ~CurlHttpClient() override { curl_easy_cleanup(curl_); }

  Result<HttpResponse> send(const HttpRequest& request) override {
    // One easy handle, reused: libcurl keeps the connection (and the TLS session) alive between calls.
    if (cancelled_) return make_error("Cancelled", request.method + " " + request.url + ": cancelled", false);
    std::lock_guard lock(mu_);
    if (!curl_) return make_error("ConnectionError", "libcurl failed to initialise", false);
    curl_easy_reset(curl_);
    HttpResponse resp;
    curl_easy_setopt(curl_, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "HEAD") curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    curl_slist* list = nullptr;
    for (const auto& [k, v] : request.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
    // The body is signed as sent; libcurl must not add "Expect: 100-continue" or a default Content-Type.
    list = curl_slist_append(list, "Expect:");
    bool has_ct = false;
    for (const auto& [k, v] : request.headers) has_ct = has_ct || iequals(k, "content-type");
    if (!has_ct) list = curl_slist_append(list, "Content-Type:");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &resp);
    // Fewer, larger reads for answers of megabytes (the default is 16 KB).
    curl_easy_setopt(curl_, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "haproxy-asg/0.1");
    // No proxy from the environment: AWS endpoints and IMDS are reached directly (IMDS must never go through one).
    curl_easy_setopt(curl_, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, &cancelled_);
    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    if (rc == CURLE_ABORTED_BY_CALLBACK)
      return make_error("Cancelled", request.method + " " + request.url + ": cancelled", false);
    if (rc != CURLE_OK) {
      std::string what = curl_easy_strerror(rc);
      if (rc == CURLE_OPERATION_TIMEDOUT)
        return make_error("RequestTimeout",
                          request.method + " " + request.url + ": no answer within " +
                              std::to_string(request.timeout.count()) + " ms",
                          true);
      return make_error("ConnectionError", request.method + " " + request.url + ": " + what, true);
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &resp.status);
    return resp;
  }

  void cancel() override { cancelled_ = true; }

 private:
  std::mutex mu_;
  CURL* curl_ = nullptr;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_http_client() { return std::make_unique<CurlHttpClient>(); }

}  // namespace hasg::aws
