// The runtime API's TLS answers: "show ssl cert" (names, and one certificate's fingerprint and expiry) and
// "show ssl crt-list" (lists, and one list's certificates).
#include "fuzz_check.h"
#include "haproxy/ssl_state.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::input(data, size);
  for (const auto& name : haproxy::parse_ssl_cert_names(text)) FUZZ_CHECK(!name.empty());
  if (auto cert = haproxy::parse_ssl_cert_detail(text); !cert) FUZZ_CHECK(!cert.error().message.empty());
  for (const auto& name : haproxy::parse_crt_list_names(text)) FUZZ_CHECK(!name.empty());
  for (const auto& name : haproxy::parse_crt_list_certs(text)) FUZZ_CHECK(!name.empty());
  return 0;
}
