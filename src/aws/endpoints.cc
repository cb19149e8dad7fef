#include "aws/endpoints.h"

#include <arpa/inet.h>

#include <cctype>

#include "util/strings.h"

namespace hasg::aws {

namespace {

Error bad_url(const std::string& url, const std::string& why) {
  return make_error("InvalidEndpoint", "'" + url + "' is not a valid URL: " + why);
}

bool valid_reg_name(std::string_view h) {
  for (char c : h)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) return false;
  return true;
}

}  // namespace

std::string Url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  if (port != 0 && !default_port) h += ":" + std::to_string(port);
  return h;
}

Result<Url> parse_url(const std::string& url) {
  Url u;
  size_t sep = url.find("://");
  if (sep == std::string::npos || sep == 0) return bad_url(url, "expected scheme://host[:port][/path]");
  u.scheme = to_lower(std::string_view(url).substr(0, sep));
  for (char c : u.scheme)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'))
      return bad_url(url, "bad scheme");
  size_t auth_start = sep + 3;
  size_t auth_end = url.find_first_of("/?#", auth_start);
  if (auth_end == std::string::npos) auth_end = url.size();
  std::string_view authority = std::string_view(url).substr(auth_start, auth_end - auth_start);
  std::string_view rest = std::string_view(url).substr(auth_end);
  u.path = rest.empty() ? "/" : (rest[0] == '/' ? std::string(rest) : "/" + std::string(rest));

  // Credentials in an endpoint URL would be sent nowhere useful and logged everywhere.
  if (authority.find('@') != std::string_view::npos) return bad_url(url, "user information is not allowed");
  std::string_view port_part;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(url, "unterminated '[' in host");
    u.host = std::string(authority.substr(1, close - 1));
    in6_addr a6{};
    if (inet_pton(AF_INET6, u.host.c_str(), &a6) != 1) return bad_url(url, "bad IPv6 address");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad_url(url, "unexpected text after ']'");
      port_part = after.substr(1);
      if (port_part.empty()) return bad_url(url, "empty port");
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos)
      return bad_url(url, "an IPv6 address must be in brackets");
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_part = authority.substr(colon + 1);
      if (port_part.empty()) return bad_url(url, "empty port");
    }
    if (!valid_reg_name(u.host)) return bad_url(url, "bad host");
  }
  if (u.host.empty()) return bad_url(url, "no host");
  if (!port_part.empty()) {
    if (port_part.size() > 5) return bad_url(url, "bad port");
    int p = 0;
    for (char c : port_part) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad_url(url, "bad port");
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return bad_url(url, "port out of range");
    u.port = p;
  }
  return u;
}

bool is_valid_region(const std::string& region) {
  if (region.empty() || region.size() > 63) return false;
  for (char c : region)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool is_loopback_host(const std::string& host_in) {
  std::string host = host_in;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (iequals(host, "localhost")) return true;
  in_addr a4{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return false;
}

Result<std::string> resolve_endpoint(const Environment& env, const std::string& service_env_suffix,
                                     const std::string& endpoint_prefix, const std::string& region) {
  std::string var;
  std::optional<std::string> value;
  // The SDKs' switch to ignore every configured endpoint override at once.
  auto ignore = env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  if (!(ignore && iequals(trim(*ignore), "true"))) {
    for (std::string name : {"AWS_ENDPOINT_URL_" + service_env_suffix, std::string("AWS_ENDPOINT_URL")}) {
      if ((value = env.get(name))) {
        var = name;
        break;
      }
    }
  }
  if (!value) {
    if (!is_valid_region(region))
      return make_error("InvalidRegion", "'" + region + "' is not a valid AWS region");
    // China's partition has its own domain.
    std::string domain = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    return "https://" + endpoint_prefix + "." + region + "." + domain;
  }

  std::string url(trim(*value));
  auto parsed = parse_url(url);
  if (!parsed) return make_error("InvalidEndpoint", var + ": " + parsed.error().message);
  if (parsed->path.find_first_of("?#") != std::string::npos)
    return make_error("InvalidEndpoint", var + "='" + url + "': an endpoint cannot have a query or fragment");
  if (parsed->scheme == "http") {
    // Signed requests carry session tokens; over a network they must be encrypted.
    if (!is_loopback_host(parsed->host))
      return make_error("InvalidEndpoint", var + "='" + url +
                                               "': plain http is allowed only for loopback hosts (127.0.0.0/8, "
                                               "localhost, ::1); use https");
  } else if (parsed->scheme != "https") {
    return make_error("InvalidEndpoint", var + "='" + url + "': the scheme must be https (or http for loopback)");
  }
  while (url.size() > 1 && url.back() == '/' && !url.ends_with("://")) url.pop_back();
  return url;
}

}  // namespace hasg::aws
