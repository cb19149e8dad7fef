// What HAProxy serves for TLS, read through the Runtime API, and the commands that change it without a reload.
// Names are HAProxy's: the paths as the configuration gave them, crt-base applied; they are the keys every
// "set/new/commit/abort ssl cert" and "add ssl crt-list" needs.
#pragma once

#include <string>
#include <vector>

#include "haproxy/runtime_command.h"
#include "tls/rotation_plan.h"
#include "util/result.h"

namespace hasg::haproxy {

// Every loaded certificate with its fingerprint and expiry, and every crt-list (and "crt DIR" directory) with its
// certificates: "show ssl cert", "show ssl crt-list", then one "show ssl cert NAME" / "show ssl crt-list NAME" each,
// on two connections. A certificate named by a bare "crt FILE" is in `certs` only (2.6.12 lists no crt-list for it);
// an empty store (made by "new ssl cert", never committed) is left out.
Result<tls::ServedTls> read_ssl_state(RuntimeTransport& t);

// Parsers of those answers (2.6.12's shapes; pure).
// "show ssl cert": the names under "# filename" (an ongoing transaction's "*NAME" lines are skipped).
std::vector<std::string> parse_ssl_cert_names(const std::string& text);
// "show ssl cert NAME": "SHA1 FingerPrint: HEX" and "notAfter: Dec  3 15:42:30 2026 GMT". An Error when the
// fingerprint is missing (HAProxy answered something else: the name is unknown, say).
Result<tls::ServedCert> parse_ssl_cert_detail(const std::string& text);
// "show ssl crt-list" (the lists' names) and "show ssl crt-list NAME" (its certificates, first word of each line).
std::vector<std::string> parse_crt_list_names(const std::string& text);
std::vector<std::string> parse_crt_list_certs(const std::string& text);

// "new ssl cert F" (unless `loaded`), "set ssl cert F <<" PEM, "commit ssl cert F", then
// "add ssl crt-list LIST <<" with the one line (options and SNI filters as the file writes them).
std::vector<Command> ssl_cert_add(const std::string& list, const std::string& file, const std::string& pem,
                                  const std::string& line, bool loaded);
// Ends a transaction a failed commit left open (2.6.12 keeps it: the next "set" says "Transaction updated"), so the
// next rotation starts clean. Any answer ("No ongoing transaction!" included) is fine.
Command ssl_cert_abort(const std::string& file);
// Drops the empty store a failed addition left behind ("Certificate 'F' deleted!", or it was never made).
Command ssl_cert_delete(const std::string& file);

}  // namespace hasg::haproxy
