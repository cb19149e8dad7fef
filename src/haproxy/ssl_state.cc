#include "haproxy/ssl_state.h"

#include <ctime>

#include "haproxy/runtime_client.h"
#include "util/strings.h"

namespace hasg::haproxy {

namespace {

// The lines of a listing answer that name something: not comments, not empty, not a transaction's "*NAME".
std::vector<std::string> listed_names(const std::string& text) {
  std::vector<std::string> out;
  for (auto line : lines_of(text, true)) {
    line = trim(line);
    if (line.empty() || line.front() == '#' || line.front() == '*') continue;
    out.emplace_back(split_ws(line).front());
  }
  return out;
}

// "Dec  3 15:42:30 2026 GMT" (OpenSSL's ASN1_TIME_print, which HAProxy uses) as Unix seconds.
std::optional<int64_t> parse_openssl_date(std::string_view s) {
  std::string text(trim(s));
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%b %d %H:%M:%S %Y", &tm);
  if (end == nullptr) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

std::string_view field(std::string_view line, std::string_view key) {
  return line.starts_with(key) ? trim(line.substr(key.size())) : std::string_view();
}

}  // namespace

std::vector<std::string> parse_ssl_cert_names(const std::string& text) { return listed_names(text); }
std::vector<std::string> parse_crt_list_names(const std::string& text) { return listed_names(text); }
std::vector<std::string> parse_crt_list_certs(const std::string& text) { return listed_names(text); }

Result<tls::ServedCert> parse_ssl_cert_detail(const std::string& text) {
  tls::ServedCert c;
  for (auto line : lines_of(text, true)) {
    if (auto v = field(line, "SHA1 FingerPrint:"); !v.empty()) c.sha1 = std::string(v);
    if (auto v = field(line, "notAfter:"); !v.empty()) c.not_after = parse_openssl_date(v);
  }
  if (c.sha1.empty())
    return make_error("HaproxyUnexpectedAnswer", "\"show ssl cert\" answered without a SHA1 FingerPrint: \"" +
                                                     one_line(text) + "\"");
  return c;
}

Result<tls::ServedTls> read_ssl_state(RuntimeTransport& t) {
  auto lists = t.run({"show ssl cert", "show ssl crt-list"});
  if (!lists) return lists.error();
  const auto certs = parse_ssl_cert_names((*lists)[0]);
  const auto crt_lists = parse_crt_list_names((*lists)[1]);
  tls::ServedTls out;
  if (certs.empty() && crt_lists.empty()) return out;
  std::vector<std::string> cmds;
  for (const auto& c : certs) cmds.push_back("show ssl cert " + c);
  for (const auto& l : crt_lists) cmds.push_back("show ssl crt-list " + l);
  auto details = t.run(cmds);
  if (!details) return details.error();
  for (size_t i = 0; i < certs.size(); ++i) {
    // An empty store ("new ssl cert" not committed: 2.6.12 shows "Status: Empty" and no fingerprint) serves
    // nothing and has no file to follow: left out.
    auto d = parse_ssl_cert_detail((*details)[i]);
    if (d) out.certs[certs[i]] = *d;
  }
  for (size_t i = 0; i < crt_lists.size(); ++i) {
    auto names = parse_crt_list_certs((*details)[certs.size() + i]);
    out.lists[crt_lists[i]] = std::set<std::string>(names.begin(), names.end());
  }
  return out;
}

std::vector<Command> ssl_cert_add(const std::string& list, const std::string& file, const std::string& pem,
                                  const std::string& line, bool loaded) {
  std::vector<Command> out;
  if (!loaded) {
    out.push_back({"new ssl cert " + file, {}, Expect::starts_with_any({"New empty certificate store"}), false});
    for (auto& c : RuntimeClient::ssl_cert_update(file, pem)) out.push_back(std::move(c));
  }
  // 2.6.12: "Inserting certificate 'F' in crt-list 'L'.\nSuccess!"; refused: "Can't edit the crt-list: ...".
  out.push_back({"add ssl crt-list " + list, line + "\n", Expect::ends_with("Success!"), false});
  return out;
}

Command ssl_cert_abort(const std::string& file) { return {"abort ssl cert " + file, {}, Expect::anything(), false}; }

Command ssl_cert_delete(const std::string& file) { return {"del ssl cert " + file, {}, Expect::anything(), false}; }

}  // namespace hasg::haproxy
