// Which URL each service is called at. Overrides follow the SDKs: AWS_ENDPOINT_URL_<SERVICE> (e.g.
// AWS_ENDPOINT_URL_AUTO_SCALING, AWS_ENDPOINT_URL_EC2), then AWS_ENDPOINT_URL, then the regional default
// https://<service>.<region>.amazonaws.com. Plain http is accepted only for loopback hosts (127.0.0.0/8,
// localhost, ::1): credentials-signed traffic never goes unencrypted over a network.
#pragma once

#include <string>

#include "aws/environment.h"
#include "util/result.h"

namespace hasg::aws {

// `service_env_suffix` as the SDKs spell it: "AUTO_SCALING", "EC2". `endpoint_prefix`: "autoscaling", "ec2".
Result<std::string> resolve_endpoint(const Environment& env, const std::string& service_env_suffix,
                                     const std::string& endpoint_prefix, const std::string& region);

// Splits "scheme://host[:port][/path]"; used to validate and to build Host headers.
struct Url {
  std::string scheme;
  std::string host;  // without brackets for IPv6
  int port = 0;      // 0 when not given
  std::string path;  // "/" when empty
  std::string host_header() const;  // host[:port], IPv6 in brackets, default ports omitted
};
Result<Url> parse_url(const std::string& url);
bool is_loopback_host(const std::string& host);
// A region name becomes part of a host name, so it must be one DNS label of lower-case letters, digits and '-'.
bool is_valid_region(const std::string& region);

}  // namespace hasg::aws
