// SigV4: every header-signing case of the AWS test suite (read in place from ../shared/testdata/sigv4), and the
// server-side verification the simulator runs on every request.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "util/strings.h"

namespace hasg::aws {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using std::chrono::system_clock;

std::string vectors_dir() { return hasg::test::shared_path("testdata/sigv4"); }

// A raw request as the suite writes it: request line, header lines (a line starting with whitespace continues the
// previous header and is unfolded with a space), a blank line, the body. Line ends may be LF or CRLF.
SignableRequest parse_raw_request(const std::string& text) {
  SignableRequest r;
  size_t pos = 0;
  auto next_line = [&](std::string& line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = end + 1;
    return true;
  };
  std::string line;
  next_line(line);
  // The target may contain spaces ("GET /example space/ HTTP/1.1"): it is everything between the first and last.
  size_t first = line.find(' '), last = line.rfind(' ');
  r.method = line.substr(0, first);
  std::string target = line.substr(first + 1, last - first - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  while (next_line(line) && !line.empty()) {
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      r.headers.back().second += " " + line;
      continue;
    }
    size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  if (pos < text.size()) r.body = text.substr(pos);
  return r;
}

system_clock::time_point parse_iso8601(const std::string& s) {  // "2015-08-30T12:36:00Z"
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  EXPECT_EQ(std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &sec), 6) << s;
  using namespace std::chrono;
  return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{sec};
}

struct VectorCase {
  SignableRequest request;
  Credentials credentials;
  SigningParams params;
  std::string canonical_request, string_to_sign, signature, signed_request;
};

VectorCase load_case(const std::string& name) {
  const std::string dir = vectors_dir() + "/" + name + "/";
  VectorCase c;
  auto ctx = nlohmann::json::parse(hasg::test::read_file(dir + "context.json"));
  c.credentials.access_key_id = ctx["credentials"]["access_key_id"];
  c.credentials.secret_access_key = ctx["credentials"]["secret_access_key"];
  // post-sts-header-after: the token is attached after signing and left unsigned, so it is not ours to sign.
  if (ctx["credentials"].contains("token") && !ctx.value("omit_session_token", false))
    c.credentials.session_token = ctx["credentials"]["token"];
  c.params.region = ctx["region"];
  c.params.service = ctx["service"];
  c.params.time = parse_iso8601(ctx["timestamp"]);
  c.params.normalize_path = ctx.value("normalize", true);
  c.params.sign_body_header = ctx.value("sign_body", false);
  c.request = parse_raw_request(hasg::test::read_file(dir + "request.txt"));
  c.canonical_request = hasg::test::read_file(dir + "header-canonical-request.txt");
  c.string_to_sign = hasg::test::read_file(dir + "header-string-to-sign.txt");
  c.signature = hasg::test::read_file(dir + "header-signature.txt");
  c.signed_request = hasg::test::read_file(dir + "header-signed-request.txt");
  return c;
}

// Every folder with a header-based expectation, sorted so the test order is stable.
std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto& entry : fs::directory_iterator(vectors_dir(), ec))
    if (entry.is_directory() && fs::exists(entry.path() / "header-signature.txt"))
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The cases whose path is normalized: verify() always normalizes, as every non-S3 service does.
std::vector<std::string> normalized_case_names() {
  std::vector<std::string> names;
  for (auto& name : case_names()) {
    auto ctx = nlohmann::json::parse(hasg::test::read_file(vectors_dir() + "/" + name + "/context.json"));
    if (ctx.value("normalize", true)) names.push_back(name);
  }
  return names;
}

std::string case_test_name(const testing::TestParamInfo<std::string>& param) {
  std::string name = param.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

std::optional<std::string> header(const Headers& headers, std::string_view name) {
  for (auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

class Sigv4Suite : public testing::TestWithParam<std::string> {};
class Sigv4SuiteVerify : public testing::TestWithParam<std::string> {};

TEST_P(Sigv4Suite, SignsLikeTheAwsSuite) {
  VectorCase c = load_case(GetParam());
  Signature sig = sign(c.request, c.credentials, c.params);
  EXPECT_EQ(sig.canonical_request, c.canonical_request);
  EXPECT_EQ(sig.string_to_sign, c.string_to_sign);
  EXPECT_EQ(sig.signature, c.signature);
  // The suite's signed request carries the same Authorization header.
  auto expected = header(parse_raw_request(c.signed_request).headers, "Authorization");
  ASSERT_TRUE(expected);
  EXPECT_EQ(sig.authorization, *expected);
}

// verify() accepts the requests as the suite signed them (the expected signature, not ours).
TEST_P(Sigv4SuiteVerify, AcceptsTheSuitesSignedRequest) {
  VectorCase c = load_case(GetParam());
  SignableRequest received = parse_raw_request(c.signed_request);
  auto secrets = [&](const std::string& id) -> std::optional<std::string> {
    if (id == c.credentials.access_key_id) return c.credentials.secret_access_key;
    return std::nullopt;
  };
  auto result = verify(received, secrets, c.params.time);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(result->region, c.params.region);
  EXPECT_EQ(result->service, c.params.service);
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, Sigv4Suite, testing::ValuesIn(case_names()), case_test_name);
INSTANTIATE_TEST_SUITE_P(AwsSuite, Sigv4SuiteVerify, testing::ValuesIn(normalized_case_names()), case_test_name);

// Guards against the directory moving and the parameterized suite silently shrinking.
TEST(Sigv4SuiteFiles, AllHeaderCasesAreFound) {
  EXPECT_GE(case_names().size(), 38u) << vectors_dir();
  EXPECT_GE(normalized_case_names().size(), 31u) << vectors_dir();
}

TEST(Sigv4Helpers, HashesAndDates) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(amz_date(parse_iso8601("2015-08-30T12:36:00Z") + 999ms), "20150830T123600Z");
  EXPECT_EQ(amz_date(parse_iso8601("2024-02-29T23:59:59Z")), "20240229T235959Z");
}

TEST(Sigv4Helpers, ParsesAuthorization) {
  auto a = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a->date, "20150830");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->service, "service");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(a->signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");

  for (const char* bad : {"", "Basic dXNlcjpwYXNz", "AWS4-HMAC-SHA256",
                          "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request",
                          "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aws4_request, SignedHeaders=host, "
                          "Signature=ab",
                          "AWS4-HMAC-SHA256 Credential=AKID/2015083/us-east-1/s/aws4_request, SignedHeaders=host, "
                          "Signature=ab",
                          "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s/aws4_request, SignedHeaders=host;;a, "
                          "Signature=ab",
                          "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s/aws4_request SignedHeaders=host"}) {
    auto r = parse_authorization(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "IncompleteSignature") << bad;
  }
}

// verify(): a DescribeAutoScalingGroups request as the daemon sends it, checked the way the simulator checks it.
class Sigv4Verify : public testing::Test {
 protected:
  const system_clock::time_point t0 = parse_iso8601("2024-05-06T07:08:09Z");
  Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt, "test"};
  SigningParams params{"us-east-1", "autoscaling", t0};

  static SignableRequest request() {
    return {"POST", "/", "",
            {{"Host", "autoscaling.us-east-1.amazonaws.com"},
             {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
            "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames.member.1=app&MaxRecords=100"};
  }
  // The request as it arrives: its own headers plus the signer's.
  SignableRequest signed_request(SignableRequest r) const {
    r.headers = signed_headers(r, creds, params);
    return r;
  }
  Result<VerifiedRequest> check(const SignableRequest& r, system_clock::time_point now) const {
    return verify(r, [this](const std::string& id) -> std::optional<std::string> {
      if (id == creds.access_key_id) return creds.secret_access_key;
      return std::nullopt;
    }, now);
  }
  Result<VerifiedRequest> check(const SignableRequest& r) const { return check(r, t0); }
  static void set_header(SignableRequest& r, std::string_view name, std::string value) {
    for (auto& [n, v] : r.headers)
      if (iequals(n, name)) v = std::move(value);
  }
  static std::string code(const Result<VerifiedRequest>& r) { return r.ok() ? "OK" : r.error().code; }
};

TEST_F(Sigv4Verify, SignedRequestVerifies) {
  SignableRequest r = signed_request(request());
  auto v = check(r);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(v->region, "us-east-1");
  EXPECT_EQ(v->service, "autoscaling");
}

TEST_F(Sigv4Verify, SessionTokenIsAddedSignedAndVerifies) {
  creds.session_token = "FwoGZXIvYXdzEXAMPLE/token+with=padding==";
  SignableRequest r = signed_request(request());
  EXPECT_EQ(header(r.headers, "X-Amz-Security-Token"), creds.session_token);
  EXPECT_NE(header(r.headers, "Authorization")->find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            std::string::npos);
  EXPECT_EQ(code(check(r)), "OK");
  set_header(r, "X-Amz-Security-Token", "other");
  EXPECT_EQ(code(check(r)), "SignatureDoesNotMatch");
}

TEST_F(Sigv4Verify, HeaderNameCaseAndOrderOnTheWireDoNotMatter) {
  SignableRequest r = signed_request(request());
  for (auto& [n, v] : r.headers) n = to_lower(n);
  std::reverse(r.headers.begin(), r.headers.end());
  EXPECT_EQ(code(check(r)), "OK");
}

TEST_F(Sigv4Verify, UnsignedHeadersMayBeAdded) {
  SignableRequest r = signed_request(request());
  r.headers.emplace_back("User-Agent", "aws-cli/2");
  r.headers.emplace_back("Content-Length", "98");
  EXPECT_EQ(code(check(r)), "OK");
}

TEST_F(Sigv4Verify, ResigningReplacesTheOldDateAndAuthorization) {
  SignableRequest r = signed_request(request());
  params.time = t0 + 1min;
  r.headers = signed_headers(r, creds, params);
  EXPECT_EQ(std::count_if(r.headers.begin(), r.headers.end(), [](auto& h) { return h.first == "Authorization"; }), 1);
  EXPECT_EQ(header(r.headers, "X-Amz-Date"), amz_date(t0 + 1min));
  EXPECT_EQ(code(check(r, t0 + 1min)), "OK");
}

TEST_F(Sigv4Verify, TamperingIsDetected) {
  {
    SignableRequest r = signed_request(request());
    r.body += "&MaxRecords=1";
    EXPECT_EQ(code(check(r)), "SignatureDoesNotMatch") << "body";
  }
  {
    SignableRequest r = signed_request(request());
    set_header(r, "Content-Type", "text/plain");
    EXPECT_EQ(code(check(r)), "SignatureDoesNotMatch") << "signed header";
  }
  {
    SignableRequest r = signed_request(request());
    std::erase_if(r.headers, [](auto& h) { return h.first == "Content-Type"; });
    EXPECT_EQ(code(check(r)), "SignatureDoesNotMatch") << "signed header removed";
  }
  {
    SignableRequest r = signed_request(request());
    r.path = "/other";
    EXPECT_EQ(code(check(r)), "SignatureDoesNotMatch") << "path";
  }
  {
    SignableRequest r = signed_request(request());
    r.query = "Action=DeleteAutoScalingGroup";
    EXPECT_EQ(code(check(r)), "SignatureDoesNotMatch") << "query";
  }
  {
    SignableRequest r = signed_request(request());
    r.method = "PUT";
    EXPECT_EQ(code(check(r)), "SignatureDoesNotMatch") << "method";
  }
}

TEST_F(Sigv4Verify, WrongSecretDoesNotMatch) {
  creds.secret_access_key = "not-the-secret";
  SignableRequest r = signed_request(request());
  creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  auto v = check(r);
  EXPECT_EQ(code(v), "SignatureDoesNotMatch");
  EXPECT_NE(v.error().message.find("Canonical String"), std::string::npos) << v.error().message;
}

TEST_F(Sigv4Verify, UnknownKeyIsInvalidClientTokenId) {
  SignableRequest r = signed_request(request());
  std::string auth = *header(r.headers, "Authorization");
  auth.replace(auth.find("Credential=AKIDEXAMPLE/"), 22, "Credential=AKIDUNKNOWN");
  set_header(r, "Authorization", auth);
  EXPECT_EQ(code(check(r)), "InvalidClientTokenId");
}

TEST_F(Sigv4Verify, MissingOrMalformedAuthorization) {
  SignableRequest r = request();
  r.headers.emplace_back("X-Amz-Date", amz_date(t0));
  EXPECT_EQ(code(check(r)), "MissingAuthenticationToken");
  r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE");
  EXPECT_EQ(code(check(r)), "IncompleteSignature");
}

TEST_F(Sigv4Verify, MissingDateIsIncomplete) {
  SignableRequest r = signed_request(request());
  std::erase_if(r.headers, [](auto& h) { return h.first == "X-Amz-Date"; });
  EXPECT_EQ(code(check(r)), "IncompleteSignature");
}

TEST_F(Sigv4Verify, ClockSkewBeyondFifteenMinutesIsRejected) {
  SignableRequest r = signed_request(request());
  EXPECT_EQ(code(check(r, t0 + 14min)), "OK");
  EXPECT_EQ(code(check(r, t0 - 14min)), "OK");

  auto late = check(r, t0 + 16min);
  EXPECT_EQ(code(late), "SignatureDoesNotMatch");
  EXPECT_NE(late.error().message.find("Signature expired: 20240506T070809Z is now earlier than 20240506T070909Z"),
            std::string::npos)
      << late.error().message;

  auto early = check(r, t0 - 16min);
  EXPECT_EQ(code(early), "SignatureDoesNotMatch");
  EXPECT_NE(early.error().message.find("not yet current"), std::string::npos) << early.error().message;
}

TEST_F(Sigv4Verify, DeclaredBodyHashMustMatchTheBody) {
  params.sign_body_header = true;
  SignableRequest r = signed_request(request());
  EXPECT_EQ(header(r.headers, "X-Amz-Content-SHA256"), sha256_hex(r.body));
  EXPECT_EQ(code(check(r)), "OK");
  r.body = "Action=Other";
  EXPECT_EQ(code(check(r)), "SignatureDoesNotMatch");
}

}  // namespace
}  // namespace hasg::aws
