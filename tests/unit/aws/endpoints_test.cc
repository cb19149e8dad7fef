#include "aws/endpoints.h"

#include <gtest/gtest.h>

namespace hasg::aws {
namespace {

Result<std::string> ec2(const MapEnvironment& env, const std::string& region = "eu-west-1") {
  return resolve_endpoint(env, "EC2", "ec2", region);
}

MapEnvironment env1(const std::string& name, const std::string& value) {
  return MapEnvironment(std::map<std::string, std::string>{{name, value}});
}

TEST(ResolveEndpoint, RegionalDefault) {
  EXPECT_EQ(*ec2(MapEnvironment{}), "https://ec2.eu-west-1.amazonaws.com");
  EXPECT_EQ(*resolve_endpoint(MapEnvironment{}, "AUTO_SCALING", "autoscaling", "us-east-1"),
            "https://autoscaling.us-east-1.amazonaws.com");
  EXPECT_EQ(*ec2(MapEnvironment{}, "cn-north-1"), "https://ec2.cn-north-1.amazonaws.com.cn");
}

TEST(ResolveEndpoint, InvalidRegionRejected) {
  for (const char* r : {"", "eu-west-1.evil.com", "EU-WEST-1", "a/b"}) {
    auto e = ec2(MapEnvironment{}, r);
    ASSERT_FALSE(e.ok()) << r;
    EXPECT_EQ(e.error().code, "InvalidRegion");
  }
}

TEST(ResolveEndpoint, ServiceVariableBeatsGeneric) {
  MapEnvironment env({{"AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:4566"},
                      {"AWS_ENDPOINT_URL", "http://127.0.0.1:9999"},
                      {"AWS_ENDPOINT_URL_AUTO_SCALING", "http://127.0.0.1:5000"}});
  EXPECT_EQ(*ec2(env), "http://127.0.0.1:4566");
  EXPECT_EQ(*resolve_endpoint(env, "AUTO_SCALING", "autoscaling", "eu-west-1"), "http://127.0.0.1:5000");
}

TEST(ResolveEndpoint, GenericWhenNoServiceVariable) {
  MapEnvironment env({{"AWS_ENDPOINT_URL_EC2", ""},  // empty counts as unset
                      {"AWS_ENDPOINT_URL", "http://localhost:9999"},
                      {"AWS_ENDPOINT_URL_AUTO_SCALING", "http://127.0.0.1:5000"}});
  EXPECT_EQ(*ec2(env), "http://localhost:9999");
}

TEST(ResolveEndpoint, IgnoreConfiguredEndpointUrls) {
  MapEnvironment env({{"AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:4566"},
                      {"AWS_ENDPOINT_URL", "http://127.0.0.1:9999"},
                      {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}});
  EXPECT_EQ(*ec2(env), "https://ec2.eu-west-1.amazonaws.com");
}

TEST(ResolveEndpoint, TrailingSlashStripped) {
  EXPECT_EQ(*ec2(env1("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/")), "http://127.0.0.1:4566");
  EXPECT_EQ(*ec2(env1("AWS_ENDPOINT_URL", "https://proxy.example.com/aws/")),
            "https://proxy.example.com/aws");
}

TEST(ResolveEndpoint, HttpsAnywhere) {
  for (const char* url : {"https://ec2.example.com", "https://10.0.0.5:8443", "https://[2001:db8::1]:443/x",
                          "HTTPS://EC2.EXAMPLE.COM"}) {
    auto e = ec2(env1("AWS_ENDPOINT_URL_EC2", url));
    ASSERT_TRUE(e.ok()) << url << ": " << e.error().to_string();
    EXPECT_EQ(*e, url);
  }
}

TEST(ResolveEndpoint, HttpOnlyForLoopback) {
  for (const char* url : {"http://127.0.0.1:4566", "http://127.10.20.30", "http://localhost:1/", "http://LOCALHOST",
                          "http://[::1]:8080", "http://[::1]"}) {
    auto e = ec2(env1("AWS_ENDPOINT_URL_EC2", url));
    EXPECT_TRUE(e.ok()) << url << ": " << e.error().to_string();
  }
  for (const char* url : {"http://10.0.0.1:4566", "http://ec2.example.com", "http://[2001:db8::1]:80",
                          "http://127.0.0.1.nip.io", "http://169.254.169.254", "http://0.0.0.0:4566",
                          "http://localhost.example.com"}) {
    auto e = ec2(env1("AWS_ENDPOINT_URL_EC2", url));
    ASSERT_FALSE(e.ok()) << url;
    EXPECT_EQ(e.error().code, "InvalidEndpoint");
    EXPECT_NE(e.error().message.find("AWS_ENDPOINT_URL_EC2"), std::string::npos) << e.error().message;
    EXPECT_NE(e.error().message.find("loopback"), std::string::npos) << e.error().message;
  }
}

TEST(ResolveEndpoint, ErrorNamesTheGenericVariable) {
  auto e = ec2(env1("AWS_ENDPOINT_URL", "http://10.1.2.3"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message.rfind("AWS_ENDPOINT_URL=", 0), 0u) << e.error().message;
}

TEST(ResolveEndpoint, OtherSchemesAndJunkRejected) {
  for (const char* url : {"ftp://127.0.0.1", "127.0.0.1:4566", "https://", "https://host:0", "https://host:99999",
                          "https://host:abc", "https://user:pw@host", "https://host/?x=1", "https://host#frag"}) {
    auto e = ec2(env1("AWS_ENDPOINT_URL_EC2", url));
    ASSERT_FALSE(e.ok()) << url;
    EXPECT_EQ(e.error().code, "InvalidEndpoint") << url;
    EXPECT_NE(e.error().message.find("AWS_ENDPOINT_URL_EC2"), std::string::npos) << e.error().message;
  }
}

TEST(ParseUrl, Parts) {
  auto u = parse_url("http://127.0.0.1:4566/base/path?q=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 4566);
  EXPECT_EQ(u->path, "/base/path?q=1");

  u = parse_url("HTTPS://ec2.eu-west-1.amazonaws.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "ec2.eu-west-1.amazonaws.com");
  EXPECT_EQ(u->port, 0);
  EXPECT_EQ(u->path, "/");
}

TEST(ParseUrl, Ipv6InBrackets) {
  auto u = parse_url("http://[::1]:8080/x");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/x");
  u = parse_url("https://[2001:db8::1]");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "2001:db8::1");
  EXPECT_EQ(u->port, 0);
}

TEST(ParseUrl, Errors) {
  for (const char* url : {"", "nohost", "://x", "http://", "http://:80", "http://[::1", "http://[::1]x",
                          "http://[nothex]:1", "http://::1:80", "http://host:", "http://[::1]:", "http://a b",
                          "http://host:65536", "http://u@host"}) {
    auto u = parse_url(url);
    EXPECT_FALSE(u.ok()) << url;
    if (!u.ok()) {
      EXPECT_EQ(u.error().code, "InvalidEndpoint");
    }
  }
}

TEST(UrlHostHeader, DefaultPortsOmitted) {
  EXPECT_EQ(parse_url("https://ec2.amazonaws.com:443/")->host_header(), "ec2.amazonaws.com");
  EXPECT_EQ(parse_url("http://localhost:80")->host_header(), "localhost");
  EXPECT_EQ(parse_url("https://localhost:80")->host_header(), "localhost:80");
  EXPECT_EQ(parse_url("http://localhost:443")->host_header(), "localhost:443");
  EXPECT_EQ(parse_url("http://127.0.0.1:4566/x")->host_header(), "127.0.0.1:4566");
  EXPECT_EQ(parse_url("https://ec2.amazonaws.com")->host_header(), "ec2.amazonaws.com");
  EXPECT_EQ(parse_url("http://[::1]:8080")->host_header(), "[::1]:8080");
  EXPECT_EQ(parse_url("http://[::1]:80")->host_header(), "[::1]");
  EXPECT_EQ(parse_url("https://[2001:db8::1]")->host_header(), "[2001:db8::1]");
}

TEST(IsValidRegion, Cases) {
  for (const char* r : {"eu-west-1", "us-gov-west-1", "cn-north-1", "local"}) EXPECT_TRUE(is_valid_region(r)) << r;
  for (const char* r : {"", "EU-WEST-1", "eu_west_1", "eu-west-1.", "a b", "x/y"})
    EXPECT_FALSE(is_valid_region(r)) << r;
  EXPECT_FALSE(is_valid_region(std::string(64, 'a')));
}

TEST(IsLoopbackHost, Cases) {
  for (const char* h : {"127.0.0.1", "127.255.255.254", "127.1.2.3", "localhost", "LocalHost", "::1", "[::1]",
                        "0:0:0:0:0:0:0:1"})
    EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"", "128.0.0.1", "10.0.0.1", "0.0.0.0", "169.254.169.254", "::", "::2", "127.0.0.1.nip.io",
                        "localhost.example.com", "127.1", "fd00:ec2::254", "example.com"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

}  // namespace
}  // namespace hasg::aws
