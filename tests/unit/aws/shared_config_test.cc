#include "aws/shared_config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/process.h"

namespace hasg::aws {
namespace {

std::map<std::string, Profile> parse_ok(std::string_view text, bool is_config) {
  auto r = parse_shared_file(text, "/f", is_config);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : std::map<std::string, Profile>{};
}

std::string parse_err(std::string_view text, bool is_config = false) {
  auto r = parse_shared_file(text, "/home/u/.aws/credentials", is_config);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code, "SharedConfigError");
  return r.error().message;
}

TEST(SharedFileParse, CredentialsFileSectionsKeysAndComments) {
  auto p = parse_ok(
      "# leading comment\n"
      "; another\n"
      "[default]\n"
      "aws_access_key_id=AKIDDEFAULT\n"
      "  \t\n"
      "AWS_Secret_Access_Key   =   s3cr3t/+abc  \n"
      "\n"
      "[ prod ]\r\n"
      "aws_access_key_id = AKIDPROD ; trailing comment\r\n"
      "aws_secret_access_key = a#b;c   # comment after whitespace\r\n"
      "aws_session_token =\r\n",
      false);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p["default"]["aws_access_key_id"], "AKIDDEFAULT");
  EXPECT_EQ(p["default"]["aws_secret_access_key"], "s3cr3t/+abc");  // keys are lower-cased
  EXPECT_EQ(p["prod"]["aws_access_key_id"], "AKIDPROD");
  EXPECT_EQ(p["prod"]["aws_secret_access_key"], "a#b;c");  // '#' without whitespace before is part of the value
  EXPECT_EQ(p["prod"]["aws_session_token"], "");
}

TEST(SharedFileParse, CredentialsFileTakesSectionNamesLiterally) {
  auto p = parse_ok("[profile x]\naws_access_key_id = A\n", false);
  EXPECT_EQ(p.count("profile x"), 1u);
  EXPECT_EQ(p.count("x"), 0u);
}

TEST(SharedFileParse, ConfigFileProfileSections) {
  auto p = parse_ok(
      "[default]\nregion = us-east-1\n"
      "[profile  dev ]\nregion = eu-west-1\n"
      "[profile\tqa]\nregion = eu-west-3\n"
      "[bare]\nregion = ap-south-1\n"            // not a profile in the config file
      "[sso-session corp]\nsso_region = us-east-2\n"
      "[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:1\n"
      "[profile]\nregion = x\n",                 // "profile" with no name is not a profile either
      true);
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(p["default"]["region"], "us-east-1");
  EXPECT_EQ(p["dev"]["region"], "eu-west-1");
  EXPECT_EQ(p["qa"]["region"], "eu-west-3");
  EXPECT_EQ(p.count("bare"), 0u);
  EXPECT_EQ(p.count("corp"), 0u);
}

TEST(SharedFileParse, ConfigProfileDefaultIsDefault) {
  auto p = parse_ok("[profile default]\nregion = eu-north-1\n", true);
  EXPECT_EQ(p["default"]["region"], "eu-north-1");
}

TEST(SharedFileParse, NestedSubSectionIsSkipped) {
  auto p = parse_ok(
      "[profile dev]\n"
      "region = eu-west-1\n"
      "s3 =\n"
      "  max_concurrent_requests = 10\n"
      "  region = us-west-2\n"          // belongs to s3, must not replace the profile's region
      "  # a comment inside\n"
      "  aws_access_key_id = NOPE\n"
      "output = json\n",
      true);
  Profile& dev = p["dev"];
  EXPECT_EQ(dev["region"], "eu-west-1");
  EXPECT_EQ(dev.count("aws_access_key_id"), 0u);
  EXPECT_EQ(dev.count("max_concurrent_requests"), 0u);
  EXPECT_EQ(dev["output"], "json");
}

TEST(SharedFileParse, ContinuationOfAValueIsAppended) {
  // As the SDKs do: an indented line under a property with a value continues that value.
  auto p = parse_ok("[a]\nkey = first\n  second\nother = x\n", false);
  EXPECT_EQ(p["a"]["key"], "first\nsecond");
  EXPECT_EQ(p["a"]["other"], "x");
}

TEST(SharedFileParse, IndentedLinesWithoutAPropertyAreOrdinary) {
  auto p = parse_ok("  [a]\n  aws_access_key_id = A\n", false);
  EXPECT_EQ(p["a"]["aws_access_key_id"], "A");
}

TEST(SharedFileParse, UniformlyIndentedFileIsOnePropertyPerLine) {
  auto p = parse_ok("  [a]\n  aws_access_key_id = A\n  aws_secret_access_key = B\n    more\n\t[b]\n\tk = v\n", false);
  EXPECT_EQ(p["a"]["aws_access_key_id"], "A");
  EXPECT_EQ(p["a"]["aws_secret_access_key"], "B\nmore");
  EXPECT_EQ(p["b"]["k"], "v");
}

TEST(SharedFileParse, DuplicateSectionsMergeLaterWins) {
  auto p = parse_ok("[a]\nk = 1\nj = 2\n[b]\n[a]\nk = 3\n", false);
  EXPECT_EQ(p["a"]["k"], "3");
  EXPECT_EQ(p["a"]["j"], "2");
}

TEST(SharedFileParse, ByteOrderMarkIgnored) {
  auto p = parse_ok("\xEF\xBB\xBF[default]\nregion = x\n", false);
  EXPECT_EQ(p["default"]["region"], "x");
}

TEST(SharedFileParse, ErrorsNameFileAndLine) {
  EXPECT_EQ(parse_err("[default\naws_access_key_id = A\n"), "/home/u/.aws/credentials:1: section header without ']'");
  EXPECT_EQ(parse_err("# c\naws_access_key_id = A\n"), "/home/u/.aws/credentials:2: property before any [section]");
  EXPECT_EQ(parse_err("[a]\n\nk = v\nthis line has no equals\n"),
            "/home/u/.aws/credentials:4: expected 'name = value' or '[section]'");
  EXPECT_EQ(parse_err("[a]\n = v\n"), "/home/u/.aws/credentials:2: property without a name");
  EXPECT_EQ(parse_err("[]\n"), "/home/u/.aws/credentials:1: empty section name");
  EXPECT_EQ(parse_err("[a] junk\n"), "/home/u/.aws/credentials:1: unexpected text after section header");
}

TEST(SharedFileParse, SectionHeaderMayCarryAComment) {
  auto p = parse_ok("[a] # note\nk = v\n[b];x\n", false);
  EXPECT_EQ(p["a"]["k"], "v");
  EXPECT_EQ(p.count("b"), 1u);
}

TEST(SharedFileParse, ErrorNeverQuotesTheLine) {
  // A malformed line may be a secret key with its '=' lost.
  std::string msg = parse_err("[a]\naws_secret_access_key wJalrXUtnFEMI\n");
  EXPECT_EQ(msg.find("wJalr"), std::string::npos);
}

TEST(SharedFiles, DefaultsFromHome) {
  MapEnvironment env(std::map<std::string, std::string>{{"HOME", "/home/u"}});
  SharedFiles f = shared_files(env);
  EXPECT_EQ(f.profile, "default");
  EXPECT_EQ(f.credentials_path, "/home/u/.aws/credentials");
  EXPECT_EQ(f.config_path, "/home/u/.aws/config");
}

TEST(SharedFiles, EnvironmentOverridesAndTilde) {
  MapEnvironment env({{"HOME", "/home/u"},
                      {"AWS_PROFILE", "prod"},
                      {"AWS_SHARED_CREDENTIALS_FILE", "~/creds"},
                      {"AWS_CONFIG_FILE", "/etc/aws/config"}});
  SharedFiles f = shared_files(env);
  EXPECT_EQ(f.profile, "prod");
  EXPECT_EQ(f.credentials_path, "/home/u/creds");
  EXPECT_EQ(f.config_path, "/etc/aws/config");
}

TEST(SharedFiles, EmptyVariablesCountAsUnset) {
  MapEnvironment env({{"HOME", "/h"}, {"AWS_PROFILE", ""}, {"AWS_CONFIG_FILE", ""}});
  SharedFiles f = shared_files(env);
  EXPECT_EQ(f.profile, "default");
  EXPECT_EQ(f.config_path, "/h/.aws/config");
}

class LoadProfile : public ::testing::Test {
 protected:
  hasg::test::TempDir dir;
  MapEnvironment env{{{"HOME", "/nonexistent-home"}}};
  void SetUp() override {
    env.set("AWS_SHARED_CREDENTIALS_FILE", dir.file("credentials"));
    env.set("AWS_CONFIG_FILE", dir.file("config"));
  }
};

TEST_F(LoadProfile, NeitherFileIsNotAnError) {
  auto r = load_profile(env);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(r->has_value());
}

TEST_F(LoadProfile, CredentialsFileWinsOverConfig) {
  hasg::test::write_file(dir.file("config"),
                         "[default]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n"
                         "[profile prod]\nregion = us-east-1\n");
  hasg::test::write_file(dir.file("credentials"), "[default]\naws_access_key_id = FROMCREDS\n");
  auto r = load_profile(env);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((**r)["aws_access_key_id"], "FROMCREDS");
  EXPECT_EQ((**r)["region"], "eu-west-1");
}

TEST_F(LoadProfile, SelectedProfileFromConfigOnly) {
  hasg::test::write_file(dir.file("config"), "[profile prod]\nregion = us-east-1\n");
  hasg::test::write_file(dir.file("credentials"), "[default]\naws_access_key_id = X\n");
  env.set("AWS_PROFILE", "prod");
  auto r = load_profile(env);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, (Profile{{"region", "us-east-1"}}));
}

TEST_F(LoadProfile, ProfileInNeitherFile) {
  hasg::test::write_file(dir.file("config"), "[default]\nregion = us-east-1\n");
  env.set("AWS_PROFILE", "missing");
  auto r = load_profile(env);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_F(LoadProfile, MalformedFileIsAnErrorWithPathAndLine) {
  hasg::test::write_file(dir.file("config"), "[default]\nregion = us-east-1\n[profile oops\n");
  auto r = load_profile(env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, dir.file("config") + ":3: section header without ']'");
}

TEST_F(LoadProfile, MalformedFileIsAnErrorEvenIfTheProfileIsElsewhere) {
  hasg::test::write_file(dir.file("credentials"), "[default]\naws_access_key_id = A\n[x]\nbroken\n");
  auto r = load_profile(env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, dir.file("credentials") + ":4: expected 'name = value' or '[section]'");
}

TEST_F(LoadProfile, UnreadableFileIsAnError) {
  std::filesystem::create_directory(dir.file("credentials"));
  auto r = load_profile(env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(dir.file("credentials")), std::string::npos);
}

}  // namespace
}  // namespace hasg::aws
