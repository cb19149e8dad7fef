#include "aws/imds.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "util/strings.h"

namespace hasg::aws {

namespace {

// The SDKs give IMDS one second per request: off EC2 the link-local address does not answer, and a daemon
// starting on a laptop must not hang on it.
constexpr std::chrono::milliseconds kImdsTimeout{1000};
constexpr const char* kDefaultEndpoint = "http://169.254.169.254";
constexpr const char* kDefaultEndpointIpv6 = "http://[fd00:ec2::254]";

Error imds_error(const std::string& what, long status) {
  // 5xx from IMDS is transient (it is rebuilding credentials); 4xx says how the instance is configured, and 404 on
  // the role listing means no instance profile, which callers tell apart.
  return make_error(status == 404 ? "ImdsNotFound" : "ImdsError", what + ": HTTP " + std::to_string(status),
                    status >= 500);
}

Error wrap(const Error& e, const std::string& what) {
  return Error{e.code, what + ": " + e.message, e.retryable};
}


}  // namespace

ImdsClient::ImdsClient(HttpClient& http, std::string endpoint, const Clock& clock, std::chrono::seconds token_ttl)
    : http_(http), endpoint_(std::move(endpoint)), clock_(clock), token_ttl_(token_ttl) {
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
}

std::optional<std::string> ImdsClient::endpoint_from(const Environment& env) {
  if (auto disabled = env.get("AWS_EC2_METADATA_DISABLED"); disabled && iequals(trim(*disabled), "true"))
    return std::nullopt;
  if (auto ep = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT")) return *ep;
  // The SDKs' switch for IPv6-only instances.
  if (auto mode = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"); mode && iequals(trim(*mode), "ipv6"))
    return std::string(kDefaultEndpointIpv6);
  return std::string(kDefaultEndpoint);
}

Result<std::string> ImdsClient::token() {
  auto now = clock_.now();
  if (!token_.empty() && now < token_expires_) return token_;
  HttpRequest req;
  req.method = "PUT";
  req.url = endpoint_ + "/latest/api/token";
  req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(token_ttl_.count())}};
  req.timeout = kImdsTimeout;
  auto resp = http_.send(req);
  if (!resp) return wrap(resp.error(), "IMDS token (PUT " + req.url + ")");
  if (resp->status != 200) {
    // 403 here means IMDS is turned off for the instance; 404/405 an IMDSv1-only endpoint. Never fall back to v1.
    return imds_error("IMDS token (PUT " + req.url + ")", resp->status);
  }
  std::string tok(trim(resp->body));
  if (tok.empty()) return make_error("ImdsError", "IMDS token (PUT " + req.url + "): empty token");
  token_ = std::move(tok);
  // Renew a little before the TTL so a token never expires between our check and IMDS's.
  auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(60), token_ttl_ / 10);
  token_expires_ = now + token_ttl_ - margin;
  return token_;
}

Result<std::string> ImdsClient::get(const std::string& path) {
  HttpRequest req;
  req.method = "GET";
  req.url = endpoint_ + "/latest/" + path;
  req.timeout = kImdsTimeout;
  // A 401 means IMDS no longer knows our token (expired early, instance restarted, endpoint changed): fetch a new one,
  // once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto tok = token();
    if (!tok) return tok.error();
    req.headers = {{"X-aws-ec2-metadata-token", *tok}};
    auto resp = http_.send(req);
    if (!resp) return wrap(resp.error(), "IMDS GET " + req.url);
    if (resp->status == 401 && attempt == 0) {
      token_.clear();
      continue;
    }
    if (resp->status != 200) return imds_error("IMDS GET " + req.url, resp->status);
    return std::move(resp->body);
  }
  return make_error("ImdsError", "IMDS GET " + req.url + ": HTTP 401 with a fresh token");
}

Result<std::string> ImdsClient::region() {
  auto body = get("meta-data/placement/region");
  if (!body) return body.error();
  std::string r(trim(*body));
  if (r.empty()) return make_error("ImdsError", "IMDS placement/region is empty");
  return r;
}

Result<Credentials> ImdsClient::instance_credentials() {
  const std::string base = "meta-data/iam/security-credentials/";
  auto roles = get(base);
  if (!roles) {
    if (roles.error().code == "ImdsNotFound")
      return make_error("ImdsError", "no IAM role attached to this instance (IMDS " + base + " is 404)");
    return roles.error();
  }
  std::string_view first = *roles;
  first = trim(first.substr(0, first.find('\n')));
  if (first.empty())
    return make_error("ImdsError", "no IAM role attached to this instance (IMDS " + base + " is empty)");
  std::string role(first);

  auto body = get(base + role);
  if (!body) return body.error();
  return parse_instance_credentials(*body, role);
}

Result<Credentials> parse_instance_credentials(const std::string& body, const std::string& role) {
  const std::string what = "IMDS credentials of role '" + role + "'";
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return make_error("ImdsError", what + ": not a JSON object");
  auto str = [&](const char* key) -> std::string {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (std::string code = str("Code"); code != "Success") {
    std::string msg = str("Message");
    return make_error("ImdsError", what + ": Code is '" + code + "'" + (msg.empty() ? "" : " (" + msg + ")"), true);
  }
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("Token");
  std::string expiration = str("Expiration");
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty() || expiration.empty())
    return make_error("ImdsError", what + ": missing AccessKeyId, SecretAccessKey, Token or Expiration");
  c.expiration = parse_iso8601_utc(expiration);
  if (!c.expiration) return make_error("ImdsError", what + ": bad Expiration '" + expiration + "'");
  c.source = "imds (role " + role + ")";
  return c;
}

}  // namespace hasg::aws
