#include "tls/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "util/strings.h"

namespace hasg::tls {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

BioPtr memory_bio(std::string_view text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

// OpenSSL's last queued reason, or `fallback`; the queue is emptied either way, so the next call starts clean.
std::string openssl_reason(const std::string& fallback) {
  unsigned long code = ERR_peek_last_error();
  std::string out = fallback;
  if (code != 0) {
    const char* why = ERR_reason_error_string(code);
    if (why != nullptr) out += " (" + std::string(why) + ")";
  }
  ERR_clear_error();
  return out;
}

Error invalid(const std::string& why) { return make_error("CertificateInvalid", why); }

}  // namespace

bool has_private_key(std::string_view pem) {
  // "-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----", and the
  // encrypted forms, which HAProxy cannot load without a passphrase anyway.
  for (auto line : lines_of(pem, true))
    if (line.starts_with("-----BEGIN ") && line.find("PRIVATE KEY-----") != std::string_view::npos) return true;
  return false;
}

std::string runtime_payload(std::string_view pem, std::string_view sidecar_key) {
  std::string out;
  auto add = [&](std::string_view text) {
    for (auto line : lines_of(text, true)) {
      if (trim(line).empty()) continue;
      out.append(line);
      out += '\n';
    }
  };
  add(pem);
  if (!has_private_key(pem)) add(sidecar_key);
  return out;
}

Result<CertificateInfo> inspect_certificate(std::string_view pem, std::string_view sidecar_key) {
  ERR_clear_error();
  auto bio = memory_bio(pem);
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) return invalid(openssl_reason("no PEM certificate in it"));
  // The rest of the chain must parse too: HAProxy refuses a file with a broken chain block.
  for (;;) {
    X509Ptr extra(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (extra) continue;
    unsigned long err = ERR_peek_last_error();
    if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
      ERR_clear_error();  // the end of the file, not a failure
      break;
    }
    return invalid(openssl_reason("a PEM block after the certificate does not parse"));
  }
  const bool own_key = has_private_key(pem);
  std::string_view key_text = own_key ? pem : sidecar_key;
  if (!own_key && trim(sidecar_key).empty())
    return invalid("no private key: neither in the file nor in a .key file beside it");
  // PEM_read_bio_PrivateKey skips the certificate blocks before the key.
  auto key_bio = memory_bio(key_text);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return invalid(openssl_reason(std::string("the private key does not parse") + (own_key ? "" : " (.key file)")));
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return invalid("the private key does not match the certificate's public key");
  }

  CertificateInfo info;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(leaf.get(), EVP_sha1(), md, &n) != 1) return invalid(openssl_reason("cannot fingerprint it"));
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned int i = 0; i < n; ++i) {
    info.sha1 += kHex[md[i] >> 4];
    info.sha1 += kHex[md[i] & 0xF];
  }
  char* subject = X509_NAME_oneline(X509_get_subject_name(leaf.get()), nullptr, 0);
  if (subject != nullptr) {
    info.subject = subject;
    OPENSSL_free(subject);
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf.get()), &tm) != 1) return invalid(openssl_reason("bad notAfter date"));
  info.not_after = static_cast<int64_t>(timegm(&tm));
  return info;
}

}  // namespace hasg::tls
