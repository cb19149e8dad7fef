// A certificate file as HAProxy loads it, checked before it is pushed through the Runtime API: HAProxy 2.6.12
// accepts a "set ssl cert" payload whose key does not match and only refuses at "commit ssl cert" ("inconsistencies
// between private key and certificate loaded"), leaving the transaction open; checking here first gives a clear
// reason, and a file that fails never reaches HAProxy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace hasg::tls {

struct CertificateInfo {
  std::string sha1;      // the leaf's SHA-1 fingerprint, upper-case hex without colons: HAProxy's "SHA1 FingerPrint"
  std::string subject;   // one line, OpenSSL's "/CN=..." form (as "show ssl cert" prints it)
  int64_t not_after = 0;  // Unix seconds
  bool operator==(const CertificateInfo&) const = default;
};

// Inspects `pem` (the file HAProxy names: leaf certificate first, then its chain, usually the key) with
// `sidecar_key` (the content of FILE.key, which HAProxy 2.6 loads when the PEM holds no key: ssl-load-extra-files'
// default; empty when there is none). Errors with code "CertificateInvalid" say why in words: no certificate, no
// private key, a key that does not match the certificate, or OpenSSL's reason for a block that does not parse.
Result<CertificateInfo> inspect_certificate(std::string_view pem, std::string_view sidecar_key);

// What "set ssl cert FILE <<" takes for that file: its PEM blocks with the sidecar key appended when the PEM has no
// key of its own (a payload without a key is refused at commit: "The transaction must contain at least a
// certificate and a private key!"), and without empty lines (the Runtime API ends a payload at the first one).
std::string runtime_payload(std::string_view pem, std::string_view sidecar_key);

// Whether the PEM text holds a private key block.
bool has_private_key(std::string_view pem);

}  // namespace hasg::tls
