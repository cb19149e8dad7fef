// Our signer against the real one: botocore_sign.py signs requests with botocore's SigV4Auth at a fixed time, and
// sign() must produce a byte-identical Authorization header for the same requests. First of all the
// DescribeAutoScalingGroups call the daemon makes, exactly as the SDK sends it, with and without a session token.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "aws/sigv4.h"
#include "support/process.h"
#include "util/strings.h"

namespace hasg::aws {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with python3-botocore (not a pyenv one on PATH)
constexpr int kNoBotocore = 3;                        // botocore_sign.py's exit code when botocore is missing

// The daemon's DescribeAutoScalingGroups call; the script builds the same one on its own.
constexpr const char* kAsgHost = "autoscaling.us-east-1.amazonaws.com";
constexpr const char* kAsgBody =
    "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames.member.1=app&MaxRecords=100";
constexpr const char* kFormType = "application/x-www-form-urlencoded; charset=utf-8";

// Extra cases sent to the script as JSON: other services and regions, a GET with a query, a path with dot segments
// and an encoded space (double-encoded, as botocore does), a header value with whitespace runs.
struct ExtraCase {
  std::string name, method, host, path, query;
  Headers headers;
  std::string body, token, region, service;
};
const std::vector<ExtraCase>& extra_cases() {
  static const std::vector<ExtraCase> cases = {
      {"ec2_describe_instances_post", "POST", "ec2.eu-west-1.amazonaws.com", "/", "", {{"Content-Type", kFormType}},
       "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0", "", "eu-west-1", "ec2"},
      {"ec2_get_query_path_and_header", "GET", "ec2.eu-west-1.amazonaws.com", "/a/./b/../c//d%20e/",
       "Version=2016-11-15&Filter.1.Name=tag%3AName&Action=DescribeInstances&Filter.1.Value.1=a%20b~c",
       {{"X-Custom", "  a   b  "}}, "", "session-token", "eu-west-1", "ec2"},
  };
  return cases;
}

json extra_cases_json() {
  json out = json::array();
  for (auto& c : extra_cases()) {
    json headers = json::array();
    for (auto& [n, v] : c.headers) headers.push_back({n, v});
    std::string url = "https://" + c.host + c.path + (c.query.empty() ? "" : "?" + c.query);
    out.push_back({{"name", c.name}, {"method", c.method}, {"url", url}, {"headers", headers}, {"body", c.body},
                   {"token", c.token}, {"region", c.region}, {"service", c.service}});
  }
  return out;
}

// The script's output, computed once for the whole program. Empty with `skip_reason` set when botocore is missing.
struct BotocoreRun {
  json output;
  std::string skip_reason;
  std::string failure;
};
const BotocoreRun& botocore_run() {
  static const BotocoreRun run = [] {
    BotocoreRun r;
    if (!std::filesystem::exists(kPython)) {
      r.skip_reason = std::string(kPython) + " is missing, so is botocore";
      return r;
    }
    auto res = hasg::test::run_command(
        {kPython, hasg::test::source_path("tests/unit/aws/botocore_sign.py"), extra_cases_json().dump()});
    if (res.exit_code == kNoBotocore) {
      r.skip_reason = std::string(kPython) + " has no botocore (apt-get install python3-botocore): " + res.err;
    } else if (res.exit_code != 0) {
      r.failure = "botocore_sign.py exited with " + std::to_string(res.exit_code) + ": " + res.err;
    } else {
      r.output = json::parse(res.out, nullptr, /*allow_exceptions=*/false);
      if (r.output.is_discarded()) r.failure = "botocore_sign.py printed no JSON: " + res.out;
    }
    return r;
  }();
  return run;
}

system_clock::time_point fixed_time() {  // 2024-05-06T07:08:09Z, the script's frozen clock
  using namespace std::chrono;
  return sys_days{2024y / 5 / 6} + 7h + 8min + 9s;
}

Credentials credentials(const std::string& token) {
  const json& out = botocore_run().output;
  return Credentials{out["access_key_id"], out["secret_access_key"], token, std::nullopt, "test"};
}

const json& case_named(const std::string& name) {
  static const json none;
  for (auto& c : botocore_run().output["cases"])
    if (c["name"] == name) return c;
  ADD_FAILURE() << "botocore_sign.py gave no case " << name;
  return none;
}

// Compares our signature of `request` with botocore's `expected`, from the canonical request (where a difference
// is readable) to the Authorization header (what must be byte-identical), and the values of the headers we add.
void expect_same_as_botocore(const SignableRequest& request, const Credentials& creds, const SigningParams& params,
                             const json& expected) {
  ASSERT_TRUE(expected.is_object());
  Signature sig = sign(request, creds, params);
  EXPECT_EQ(sig.canonical_request, expected["canonical_request"].get<std::string>());
  EXPECT_EQ(sig.string_to_sign, expected["string_to_sign"].get<std::string>());
  EXPECT_EQ(sig.authorization, expected["authorization"].get<std::string>());
  for (auto& [name, value] : sig.added_headers) {
    auto lower = to_lower(name);
    ASSERT_TRUE(expected["signed_headers"].contains(lower)) << "botocore did not sign " << lower;
    EXPECT_EQ(value, expected["signed_headers"][lower].get<std::string>()) << lower;
  }
  // Every header botocore signed is one we were given or added.
  for (auto& [name, value] : expected["signed_headers"].items()) {
    bool ours = std::any_of(request.headers.begin(), request.headers.end(),
                            [&](auto& h) { return iequals(h.first, name); }) ||
                std::any_of(sig.added_headers.begin(), sig.added_headers.end(),
                            [&](auto& h) { return iequals(h.first, name); });
    EXPECT_TRUE(ours) << "botocore signed " << name << " which we did not";
  }
}

class BotocoreSigv4 : public testing::Test {
 protected:
  void SetUp() override {
    const BotocoreRun& run = botocore_run();
    if (!run.skip_reason.empty()) GTEST_SKIP() << run.skip_reason;
    ASSERT_TRUE(run.failure.empty()) << run.failure;
    ASSERT_EQ(run.output["amz_date"], amz_date(fixed_time()));
  }

  // The DescribeAutoScalingGroups request the daemon sends; the script's echo of its own must be the same.
  static SignableRequest describe_asg(const json& expected) {
    EXPECT_EQ(expected["method"], "POST");
    EXPECT_EQ(expected["url"], std::string("https://") + kAsgHost + "/");
    EXPECT_EQ(expected["body"], kAsgBody);
    EXPECT_EQ(expected["headers"], json::array({json::array({"Content-Type", kFormType})}));
    return {"POST", "/", "", {{"Host", kAsgHost}, {"Content-Type", kFormType}}, kAsgBody};
  }
};

TEST_F(BotocoreSigv4, DescribeAutoScalingGroups) {
  const json& expected = case_named("describe_asg");
  SigningParams params{"us-east-1", "autoscaling", fixed_time()};
  expect_same_as_botocore(describe_asg(expected), credentials(""), params, expected);
}

TEST_F(BotocoreSigv4, DescribeAutoScalingGroupsWithSessionToken) {
  const json& expected = case_named("describe_asg_session_token");
  ASSERT_FALSE(expected["token"].get<std::string>().empty());
  SigningParams params{"us-east-1", "autoscaling", fixed_time()};
  expect_same_as_botocore(describe_asg(expected), credentials(expected["token"]), params, expected);
  EXPECT_NE(expected["authorization"].get<std::string>().find("x-amz-security-token"), std::string::npos);
}

TEST_F(BotocoreSigv4, OtherRequests) {
  for (auto& c : extra_cases()) {
    SCOPED_TRACE(c.name);
    SignableRequest request{c.method, c.path, c.query, c.headers, c.body};
    request.headers.insert(request.headers.begin(), {"Host", c.host});
    SigningParams params{c.region, c.service, fixed_time()};
    expect_same_as_botocore(request, credentials(c.token), params, case_named(c.name));
  }
}

}  // namespace
}  // namespace hasg::aws
