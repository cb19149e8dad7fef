// Certificate files judged as HAProxy would load them, with material made by openssl at test time.
#include "tls/certificate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "support/process.h"

namespace hasg::tls {
namespace {

class Certificate : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/openssl";
    make("one.test", "one");
    make("two.test", "two");
  }
  void make(const std::string& cn, const std::string& name) {
    auto r = test::run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                                "-subj", "/CN=" + cn, "-keyout", dir_.file(name + ".key"), "-out",
                                dir_.file(name + ".crt")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string crt(const std::string& name) { return test::read_file(dir_.file(name + ".crt")); }
  std::string key(const std::string& name) { return test::read_file(dir_.file(name + ".key")); }
  std::string openssl_x509(const std::string& name, const std::string& what) {
    auto r = test::run_command({"/usr/bin/openssl", "x509", "-noout", what, "-in", dir_.file(name + ".crt")});
    return r.out;
  }
  test::TempDir dir_;
};

TEST_F(Certificate, ValidBundleGivesHaproxysFingerprintAndExpiry) {
  auto info = inspect_certificate(crt("one") + key("one"), "");
  ASSERT_TRUE(info.ok()) << info.error().message;
  // openssl prints "sha1 Fingerprint=AA:BB:..."; HAProxy's "SHA1 FingerPrint: AABB...".
  std::string expect = openssl_x509("one", "-fingerprint");
  expect = expect.substr(expect.find('=') + 1);
  std::erase(expect, ':');
  std::erase(expect, '\n');
  EXPECT_EQ(info->sha1, expect);
  EXPECT_EQ(info->subject, "/CN=one.test");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(info->not_after - now), 30.0 * 86400, 120);
}

TEST_F(Certificate, KeyBesideTheFileIsUsedWhenThePemHasNone) {
  EXPECT_TRUE(inspect_certificate(crt("one"), key("one")).ok());
  // The file's own key wins over a sidecar.
  EXPECT_TRUE(inspect_certificate(key("one") + crt("one"), key("two")).ok());
}

TEST_F(Certificate, RefusalsSayWhy) {
  auto mismatch = inspect_certificate(crt("two") + key("one"), "");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, "CertificateInvalid");
  EXPECT_EQ(mismatch.error().message, "the private key does not match the certificate's public key");
  EXPECT_EQ(inspect_certificate(crt("two"), key("one")).error().message,
            "the private key does not match the certificate's public key");
  EXPECT_EQ(inspect_certificate(crt("one"), "").error().message,
            "no private key: neither in the file nor in a .key file beside it");
  EXPECT_NE(inspect_certificate("not a certificate\n", "").error().message.find("no PEM certificate in it"),
            std::string::npos);
  // Cut in the middle (a copy still being written).
  std::string whole = crt("one");
  EXPECT_FALSE(inspect_certificate(whole.substr(0, whole.size() / 2), key("one")).ok());
  std::string k = key("one");
  auto cut_key = inspect_certificate(crt("one") + k.substr(0, k.size() / 2), "");
  ASSERT_FALSE(cut_key.ok());
  EXPECT_NE(cut_key.error().message.find("does not parse"), std::string::npos)
      << cut_key.error().message;
}

TEST_F(Certificate, PayloadHasNoEmptyLineAndCarriesTheSidecarKey) {
  std::string pem = crt("one") + "\n\n" + crt("two");
  std::string payload = runtime_payload(pem, key("one"));
  EXPECT_EQ(payload.find("\n\n"), std::string::npos);
  EXPECT_TRUE(has_private_key(payload));
  EXPECT_EQ(payload, crt("one") + crt("two") + key("one"));
  // A PEM with its own key: the sidecar is not added.
  EXPECT_EQ(runtime_payload(crt("one") + key("one"), key("two")), crt("one") + key("one"));
}

}  // namespace
}  // namespace hasg::tls
