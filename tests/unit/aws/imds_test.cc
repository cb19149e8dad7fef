#include "aws/imds.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace hasg::aws {
namespace {

using namespace std::chrono_literals;
using test::FakeClock;
using test::FakeHttpClient;
using test::FakeImds;
using test::find_header;
using test::utc;

const std::string kEp = "http://169.254.169.254";

MapEnvironment env1(const std::string& name, const std::string& value) {
  return MapEnvironment(std::map<std::string, std::string>{{name, value}});
}

TEST(ImdsEndpoint, DefaultOverrideAndDisable) {
  EXPECT_EQ(ImdsClient::endpoint_from(MapEnvironment{}), kEp);
  EXPECT_EQ(ImdsClient::endpoint_from(env1("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")),
            "http://127.0.0.1:9");
  EXPECT_EQ(ImdsClient::endpoint_from(env1("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")),
            "http://[fd00:ec2::254]");
  for (const char* v : {"true", "TRUE", "True"})
    EXPECT_EQ(ImdsClient::endpoint_from(env1("AWS_EC2_METADATA_DISABLED", v)), std::nullopt) << v;
  EXPECT_EQ(ImdsClient::endpoint_from(env1("AWS_EC2_METADATA_DISABLED", "false")), kEp);
  EXPECT_EQ(ImdsClient::endpoint_from(env1("AWS_EC2_METADATA_DISABLED", "")), kEp);
  // Disabled wins over an explicit endpoint.
  EXPECT_EQ(ImdsClient::endpoint_from(MapEnvironment(
                {{"AWS_EC2_METADATA_DISABLED", "true"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"}})),
            std::nullopt);
}

class Imds : public ::testing::Test {
 protected:
  FakeClock clock{utc(2026, 11, 24, 6)};
  FakeHttpClient http;
  FakeImds fake{http, clock};
  ImdsClient imds{http, kEp + "/", clock};  // trailing slash on purpose
};

TEST_F(Imds, PutTokenThenGetWithIt) {
  fake.set_region("eu-west-1");
  auto r = imds.region();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "eu-west-1");
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].url, kEp + "/latest/api/token");
  EXPECT_EQ(find_header(reqs[0].headers, "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(reqs[1].url, kEp + "/latest/meta-data/placement/region");
  EXPECT_EQ(find_header(reqs[1].headers, "X-aws-ec2-metadata-token"), "tok-1");
  for (const auto& req : reqs) EXPECT_EQ(req.timeout, 1000ms);
}

TEST_F(Imds, TokenReusedUntilItsTtl) {
  fake.set_region("eu-west-1");
  ASSERT_TRUE(imds.region().ok());
  clock.advance(5h);
  ASSERT_TRUE(imds.region().ok());
  clock.advance(50min);
  ASSERT_TRUE(imds.region().ok());
  EXPECT_EQ(fake.tokens_issued(), 1);
  clock.advance(10min);  // 6h05 after the first PUT: past the 6 h TTL
  ASSERT_TRUE(imds.region().ok());
  EXPECT_EQ(fake.tokens_issued(), 2);
  EXPECT_EQ(find_header(http.requests().back().headers, "X-aws-ec2-metadata-token"), "tok-2");
}

TEST_F(Imds, CustomTtlIsAskedFor) {
  ImdsClient short_lived(http, kEp, clock, 60s);
  fake.set_region("r1");
  ASSERT_TRUE(short_lived.region().ok());
  EXPECT_EQ(find_header(http.requests().front().headers, "X-aws-ec2-metadata-token-ttl-seconds"), "60");
  clock.advance(61s);
  ASSERT_TRUE(short_lived.region().ok());
  EXPECT_EQ(fake.tokens_issued(), 2);
}

TEST_F(Imds, Unauthorized401RefetchesTokenOnce) {
  fake.set_region("eu-west-1");
  ASSERT_TRUE(imds.region().ok());
  fake.revoke_tokens();
  http.clear_requests();
  auto r = imds.region();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 3u);  // GET (401), PUT, GET
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[2].method, "GET");
  EXPECT_EQ(find_header(reqs[2].headers, "X-aws-ec2-metadata-token"), "tok-2");
}

TEST(ImdsRaw, Persistent401GivesUpAfterOneRefetch) {
  FakeClock clock;
  FakeHttpClient http;
  http.respond("PUT", kEp + "/latest/api/token", 200, "t");
  http.respond("GET", kEp + "/latest/meta-data/placement/region", 401);
  ImdsClient imds(http, kEp, clock);
  auto r = imds.region();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ImdsError");
  EXPECT_EQ(http.requests().size(), 4u);  // PUT GET PUT GET, then stop
}

TEST(ImdsRaw, TokenRefusedNeverFallsBackToV1) {
  FakeClock clock;
  FakeHttpClient http;
  http.respond("PUT", kEp + "/latest/api/token", 403);
  http.respond("GET", kEp + "/latest/meta-data/placement/region", 200, "eu-west-1");
  ImdsClient imds(http, kEp, clock);
  auto r = imds.region();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("HTTP 403"), std::string::npos) << r.error().message;
  ASSERT_EQ(http.requests().size(), 1u);
  EXPECT_EQ(http.requests()[0].method, "PUT");
}

TEST(ImdsRaw, ConnectionFailureKeepsItsCode) {
  FakeClock clock;
  FakeHttpClient http;  // nothing registered: every request fails like a closed port
  ImdsClient imds(http, kEp, clock);
  auto r = imds.get("meta-data/instance-id");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ConnectionError");
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("IMDS token"), std::string::npos) << r.error().message;
}

TEST(ImdsRaw, EmptyTokenIsAnError) {
  FakeClock clock;
  FakeHttpClient http;
  http.respond("PUT", kEp + "/latest/api/token", 200, "  \n");
  ImdsClient imds(http, kEp, clock);
  EXPECT_FALSE(imds.get("meta-data/instance-id").ok());
  EXPECT_EQ(http.requests().size(), 1u);
}

TEST_F(Imds, ServerErrorIsRetryable) {
  fake.fail_with(503);
  auto r = imds.region();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().retryable);
}

TEST_F(Imds, RegionMissingIsAnError) {
  auto r = imds.region();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("placement/region"), std::string::npos);
}

TEST_F(Imds, InstanceCredentials) {
  fake.set_role("app-role", FakeImds::credentials_json("ASIAIMDS1", "2026-11-24T12:00:00Z"));
  auto c = imds.instance_credentials();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS1");
  EXPECT_EQ(c->secret_access_key, "secret-ASIAIMDS1");
  EXPECT_EQ(c->session_token, "token-ASIAIMDS1");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(*c->expiration, utc(2026, 11, 24, 12));
  EXPECT_EQ(c->source, "imds (role app-role)");
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].url, kEp + "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(reqs[2].url, kEp + "/latest/meta-data/iam/security-credentials/app-role");
  EXPECT_EQ(fake.tokens_issued(), 1);
}

TEST(ImdsRaw, RoleIsTheFirstLineAndFractionalExpirationParses) {
  FakeClock clock;
  FakeHttpClient http;
  http.respond("PUT", kEp + "/latest/api/token", 200, "t");
  http.respond("GET", kEp + "/latest/meta-data/iam/security-credentials/", 200, "role-a\nrole-b\n");
  http.respond("GET", kEp + "/latest/meta-data/iam/security-credentials/role-a", 200,
               FakeImds::credentials_json("K", "2026-11-24T12:00:00.123Z"));
  ImdsClient imds(http, kEp, clock);
  auto c = imds.instance_credentials();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->source, "imds (role role-a)");
  EXPECT_EQ(*c->expiration, utc(2026, 11, 24, 12) + std::chrono::milliseconds(123));
}

TEST_F(Imds, CodeOtherThanSuccessIsAnError) {
  fake.set_role("app-role", FakeImds::credentials_json("K", "2026-11-24T12:00:00Z", "AssumeRoleUnauthorizedAccess"));
  auto c = imds.instance_credentials();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("AssumeRoleUnauthorizedAccess"), std::string::npos) << c.error().message;
}

TEST_F(Imds, MalformedCredentialsAreErrors) {
  for (const std::string& body :
       {std::string("not json"), std::string("[]"), std::string(R"({"Code":"Success","AccessKeyId":"K"})"),
        FakeImds::credentials_json("K", "tomorrow"), FakeImds::credentials_json("K", "2026-13-01T00:00:00Z")}) {
    fake.set_role("r", body);
    auto c = imds.instance_credentials();
    EXPECT_FALSE(c.ok()) << body;
  }
}

TEST_F(Imds, NoRoleAttached) {
  auto c = imds.instance_credentials();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("no IAM role attached"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace hasg::aws
