#include "aws/credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fakes.h"
#include "support/process.h"

namespace hasg::aws {
namespace {

using namespace std::chrono_literals;
using test::FakeClock;
using test::FakeHttpClient;
using test::FakeImds;
using test::utc;

// Every test gets its own empty HOME-like directory, files pointed at it, and an in-memory IMDS.
class Chain : public ::testing::Test {
 protected:
  hasg::test::TempDir dir;
  MapEnvironment env;
  FakeClock clock{utc(2026, 11, 24, 6)};
  FakeHttpClient http;
  FakeImds imds{http, clock};

  void SetUp() override {
    env.set("HOME", dir.path());
    env.set("AWS_SHARED_CREDENTIALS_FILE", dir.file("credentials"));
    env.set("AWS_CONFIG_FILE", dir.file("config"));
  }
  void credentials_file(const std::string& text) { hasg::test::write_file(dir.file("credentials"), text); }
  void config_file(const std::string& text) { hasg::test::write_file(dir.file("config"), text); }
  void role_expiring(const std::string& key, const std::string& expiration) {
    imds.set_role("app-role", FakeImds::credentials_json(key, expiration));
  }
};

TEST_F(Chain, EnvironmentFirst) {
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "secretenv");
  env.set("AWS_SESSION_TOKEN", "tokenenv");
  credentials_file("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->secret_access_key, "secretenv");
  EXPECT_EQ(c->session_token, "tokenenv");
  EXPECT_EQ(c->source, "environment");
  EXPECT_FALSE(c->expiration.has_value());
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Chain, EnvironmentWithoutSessionToken) {
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "secretenv");
  env.set("AWS_SESSION_TOKEN", "");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->session_token, "");
}

TEST_F(Chain, HalfAPairInTheEnvironmentIsAnError) {
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  {
    MapEnvironment e = env;
    e.set("AWS_ACCESS_KEY_ID", "AKID");
    ChainCredentialsProvider chain(e, http, clock);
    auto c = chain.get();
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, "NoCredentials");
    EXPECT_EQ(c.error().message,
              "no AWS credentials: environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
  {
    MapEnvironment e = env;
    e.set("AWS_SECRET_ACCESS_KEY", "s");
    e.set("AWS_ACCESS_KEY_ID", "");  // empty counts as unset
    ChainCredentialsProvider chain(e, http, clock);
    auto c = chain.get();
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"), std::string::npos);
  }
  EXPECT_TRUE(http.requests().empty());  // a broken configuration does not fall through to IMDS
}

TEST_F(Chain, SharedCredentialsFileNext) {
  credentials_file("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = sfile\naws_session_token = t\n");
  config_file("[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = sconfig\n");
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKIDFILE");
  EXPECT_EQ(c->secret_access_key, "sfile");
  EXPECT_EQ(c->session_token, "t");
  EXPECT_EQ(c->source, "shared file (profile default)");
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Chain, KeysInTheConfigFileWork) {
  config_file("[profile prod]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = sconfig\n");
  env.set("AWS_PROFILE", "prod");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKIDCONFIG");
  EXPECT_EQ(c->source, "shared file (profile prod)");
}

TEST_F(Chain, AwsProfileSelects) {
  credentials_file(
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n"
      "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = s\n");
  env.set("AWS_PROFILE", "prod");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDPROD");
}

TEST_F(Chain, AwsProfileThatDoesNotExistIsAnError) {
  credentials_file("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n");
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  env.set("AWS_PROFILE", "typo");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "NoCredentials");
  EXPECT_EQ(c.error().message, "no AWS credentials: shared files: AWS_PROFILE names profile 'typo' not found in " +
                                   dir.file("credentials") + " or " + dir.file("config"));
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Chain, ExplicitDefaultProfileMustExistToo) {
  env.set("AWS_PROFILE", "default");
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  EXPECT_FALSE(chain.get().ok());
}

TEST_F(Chain, UnsupportedSourcesAreNamed) {
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  for (const std::string& line :
       {std::string("role_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base"),
        std::string("credential_process = /usr/bin/get-creds"), std::string("sso_start_url = https://x/start"),
        std::string("sso_session = corp"), std::string("web_identity_token_file = /t")}) {
    config_file("[profile assumed]\nregion = eu-west-1\n" + line + "\n");
    MapEnvironment e = env;
    e.set("AWS_PROFILE", "assumed");
    ChainCredentialsProvider chain(e, http, clock);
    auto c = chain.get();
    ASSERT_FALSE(c.ok()) << line;
    EXPECT_EQ(c.error().code, "NoCredentials");
    std::string key = line.substr(0, line.find(' '));
    EXPECT_NE(c.error().message.find("profile 'assumed' uses '" + key + "'"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("does not support"), std::string::npos) << c.error().message;
  }
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Chain, StaticKeysBesideRoleArnAreUsed) {
  credentials_file("[default]\naws_access_key_id = AKID\naws_secret_access_key = s\nrole_arn = arn:x\n");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKID");
}

TEST_F(Chain, HalfAPairInAProfileIsAnError) {
  credentials_file("[default]\naws_access_key_id = AKID\n");
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            "no AWS credentials: shared files: profile 'default' has aws_access_key_id but no aws_secret_access_key");
}

TEST_F(Chain, MalformedFileIsAnErrorWithFileAndLine) {
  credentials_file("[default]\naws_access_key_id AKID\n");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "no AWS credentials: shared files: " + dir.file("credentials") +
                                   ":2: expected 'name = value' or '[section]'");
}

TEST_F(Chain, ImdsLast) {
  config_file("[default]\nregion = eu-west-1\n");  // a profile without keys falls through
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS");
  EXPECT_EQ(c->session_token, "token-ASIAIMDS");
  EXPECT_EQ(c->source, "imds (role app-role)");
  EXPECT_EQ(c->expiration, utc(2026, 11, 24, 12));
}

TEST_F(Chain, ImdsAtTheConfiguredEndpoint) {
  FakeImds local(http, clock, "http://127.0.0.1:1338");
  local.set_role("r", FakeImds::credentials_json("ASIALOCAL", "2026-11-24T12:00:00Z"));
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIALOCAL");
}

TEST_F(Chain, NothingFoundListsEverySource) {
  env.set("HOME", "/root");
  env.set("AWS_SHARED_CREDENTIALS_FILE", "");
  env.set("AWS_CONFIG_FILE", "");
  env.set("AWS_EC2_METADATA_DISABLED", "TRUE");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "NoCredentials");
  EXPECT_EQ(c.error().message,
            "no AWS credentials: environment: AWS_ACCESS_KEY_ID not set; shared files: profile 'default' not found in "
            "/root/.aws/credentials or /root/.aws/config; IMDS: disabled by AWS_EC2_METADATA_DISABLED");
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Chain, NothingFoundWithImdsSaysWhy) {
  config_file("[default]\nregion = eu-west-1\n");
  ChainCredentialsProvider chain(env, http, clock);
  auto c = chain.get();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("shared files: profile 'default' has no aws_access_key_id; IMDS "
                                   "(http://169.254.169.254): no IAM role attached"),
            std::string::npos)
      << c.error().message;
}

TEST_F(Chain, NoSourceFoundIsRetriedOnTheNextCall) {
  ChainCredentialsProvider chain(env, http, clock);
  EXPECT_FALSE(chain.get().ok());
  role_expiring("ASIAIMDS", "2026-11-24T12:00:00Z");
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS");
}

TEST_F(Chain, TheFirstSourceFoundIsRemembered) {
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "s");
  ChainCredentialsProvider chain(env, http, clock);
  ASSERT_TRUE(chain.get().ok());
  env.set("AWS_ACCESS_KEY_ID", "CHANGED");
  credentials_file("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  clock.advance(24h);
  auto c = chain.get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDENV");
}

// A key rotated in the shared file while the daemon runs is used from the next call on: no restart.
TEST_F(Chain, ARotatedSharedFileIsReadAgain) {
  credentials_file("[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = s1\n");
  ChainCredentialsProvider chain(env, http, clock);
  ASSERT_EQ(chain.get()->access_key_id, "AKIDOLD");
  EXPECT_EQ(chain.get()->access_key_id, "AKIDOLD");
  credentials_file("[default]\naws_access_key_id = AKIDROTATED\naws_secret_access_key = s2\n");
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKIDROTATED");
  EXPECT_EQ(c->secret_access_key, "s2");
}

// A file caught half-written (or broken) keeps the key in hand; once it is whole, its key is used.
TEST_F(Chain, ABrokenRotationKeepsTheCredentialsInHand) {
  credentials_file("[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = s1\n");
  ChainCredentialsProvider chain(env, http, clock);
  ASSERT_EQ(chain.get()->access_key_id, "AKIDOLD");
  credentials_file("[default\naws_access_key_id = AKIDN");
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "AKIDOLD");
  credentials_file("[default]\naws_access_key_id = AKIDNEW\naws_secret_access_key = s2\n");
  EXPECT_EQ(chain.get()->access_key_id, "AKIDNEW");
}

// AWS said the instance profile's credentials are expired before their Expiration: invalidate() fetches new ones.
TEST_F(Chain, InvalidateFetchesFreshCredentials) {
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254");
  role_expiring("ASIAFIRST", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  ASSERT_EQ(chain.get()->access_key_id, "ASIAFIRST");
  role_expiring("ASIASECOND", "2026-11-24T12:00:00Z");
  EXPECT_EQ(chain.get()->access_key_id, "ASIAFIRST") << "cached until invalidated";
  chain.invalidate();
  EXPECT_EQ(chain.get()->access_key_id, "ASIASECOND");
}

TEST_F(Chain, ImdsCredentialsCachedUntilFifteenMinutesBeforeExpiration) {
  role_expiring("ASIA1", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  ASSERT_EQ(chain.get()->access_key_id, "ASIA1");
  int gets = imds.gets();

  role_expiring("ASIA2", "2026-11-24T18:00:00Z");  // IMDS has rotated; we should not ask yet
  clock.set(utc(2026, 11, 24, 11, 44, 59));
  EXPECT_EQ(chain.get()->access_key_id, "ASIA1");
  EXPECT_EQ(imds.gets(), gets);

  clock.set(utc(2026, 11, 24, 11, 45, 1));
  auto c = chain.get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "ASIA2");
  EXPECT_EQ(c->expiration, utc(2026, 11, 24, 18));
  EXPECT_GT(imds.gets(), gets);

  gets = imds.gets();
  clock.set(utc(2026, 11, 24, 17, 0));
  EXPECT_EQ(chain.get()->access_key_id, "ASIA2");
  EXPECT_EQ(imds.gets(), gets);
}

TEST_F(Chain, CustomRefreshWindow) {
  role_expiring("ASIA1", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock, 1h);
  ASSERT_TRUE(chain.get().ok());
  role_expiring("ASIA2", "2026-11-24T18:00:00Z");
  clock.set(utc(2026, 11, 24, 10, 59));
  EXPECT_EQ(chain.get()->access_key_id, "ASIA1");
  clock.set(utc(2026, 11, 24, 11, 1));
  EXPECT_EQ(chain.get()->access_key_id, "ASIA2");
}

TEST_F(Chain, FailedRefreshKeepsStillValidCredentialsAndRetries) {
  role_expiring("ASIA1", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  ASSERT_TRUE(chain.get().ok());

  imds.fail_with(500);
  clock.set(utc(2026, 11, 24, 11, 50));
  auto c = chain.get();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIA1");

  imds.fail_with(0);  // connection failures too
  clock.set(utc(2026, 11, 24, 11, 55));
  EXPECT_EQ(chain.get()->access_key_id, "ASIA1");

  imds.fail_with(-1);
  role_expiring("ASIA2", "2026-11-24T18:00:00Z");
  clock.set(utc(2026, 11, 24, 11, 56));
  EXPECT_EQ(chain.get()->access_key_id, "ASIA2");
}

TEST_F(Chain, ExpiredAndRefreshFailedIsAnError) {
  role_expiring("ASIA1", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  ASSERT_TRUE(chain.get().ok());
  imds.fail_with(500);
  clock.set(utc(2026, 11, 24, 12, 0));
  auto c = chain.get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "NoCredentials");
  EXPECT_NE(c.error().message.find("expired"), std::string::npos) << c.error().message;

  imds.fail_with(-1);  // and it recovers once IMDS answers again
  role_expiring("ASIA2", "2026-11-24T18:00:00Z");
  auto again = chain.get();
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->access_key_id, "ASIA2");
}

TEST_F(Chain, RefreshReusesTheImdsToken) {
  role_expiring("ASIA1", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  ASSERT_TRUE(chain.get().ok());
  clock.set(utc(2026, 11, 24, 11, 50));
  ASSERT_TRUE(chain.get().ok());
  EXPECT_EQ(imds.tokens_issued(), 1);
}

TEST_F(Chain, ThreadSafe) {
  role_expiring("ASIA1", "2026-11-24T12:00:00Z");
  ChainCredentialsProvider chain(env, http, clock);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) {
        auto c = chain.get();
        if (c.ok() && c->access_key_id == "ASIA1") ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
  EXPECT_EQ(imds.tokens_issued(), 1);
  EXPECT_EQ(imds.gets(), 2);  // one role listing, one credentials document
}

TEST(StaticProvider, ReturnsWhatItWasGiven) {
  StaticCredentialsProvider p(Credentials{"AK", "SK", "", std::nullopt, "test"});
  EXPECT_EQ(p.get()->access_key_id, "AK");
}

// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile, then IMDS.
class Region : public Chain {
 protected:
  ImdsClient client{http, "http://169.254.169.254", clock};
};

TEST_F(Region, AwsRegionFirst) {
  env.set("AWS_REGION", "eu-west-1");
  env.set("AWS_DEFAULT_REGION", "us-east-1");
  config_file("[default]\nregion = ap-south-1\n");
  imds.set_region("sa-east-1");
  EXPECT_EQ(*resolve_region(env, &client), "eu-west-1");
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Region, AwsDefaultRegionNext) {
  env.set("AWS_REGION", "");
  env.set("AWS_DEFAULT_REGION", "us-east-1");
  config_file("[default]\nregion = ap-south-1\n");
  EXPECT_EQ(*resolve_region(env, &client), "us-east-1");
}

TEST_F(Region, ProfileNext) {
  config_file("[default]\nregion = ap-south-1\n[profile prod]\nregion = eu-central-1\n");
  imds.set_region("sa-east-1");
  EXPECT_EQ(*resolve_region(env, &client), "ap-south-1");
  env.set("AWS_PROFILE", "prod");
  EXPECT_EQ(*resolve_region(env, &client), "eu-central-1");
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Region, ImdsLast) {
  config_file("[default]\noutput = json\n");
  imds.set_region("sa-east-1");
  auto r = resolve_region(env, &client);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "sa-east-1");
}

TEST_F(Region, NoneWithoutImds) {
  imds.set_region("sa-east-1");
  auto r = resolve_region(env, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NoRegion");
  EXPECT_NE(r.error().message.find("set AWS_REGION"), std::string::npos) << r.error().message;
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Region, NoneWhenImdsFails) {
  auto r = resolve_region(env, &client);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NoRegion");
  EXPECT_NE(r.error().message.find("set AWS_REGION"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("IMDS"), std::string::npos) << r.error().message;
}

TEST_F(Region, MissingExplicitProfileIsAnError) {
  env.set("AWS_PROFILE", "typo");
  imds.set_region("sa-east-1");
  auto r = resolve_region(env, &client);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'typo'"), std::string::npos) << r.error().message;
}

TEST_F(Region, MalformedConfigIsAnError) {
  config_file("[default\nregion = x\n");
  auto r = resolve_region(env, &client);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, dir.file("config") + ":1: section header without ']'");
}

TEST_F(Region, InvalidRegionRejected) {
  env.set("AWS_REGION", "evil.example.com/");
  auto r = resolve_region(env, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidRegion");
}

}  // namespace
}  // namespace hasg::aws
