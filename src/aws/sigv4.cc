// AWS Signature Version 4. The canonical form follows the AWS documentation and, where the documentation is silent
// (path normalization, which headers are never signed, whitespace in header values), botocore, since the tests
// compare our Authorization header with botocore's byte for byte.
#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>
#include <string_view>

#include "util/strings.h"

namespace hasg::aws {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr auto kMaxSkew = std::chrono::minutes(15);

// Headers never signed, as in botocore: proxies and HTTP stacks add or rewrite them. Authorization is the output.
bool never_signed(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "x-amzn-trace-id";
}

// "Trimall": trim, and turn every run of whitespace (folded lines included) into one space, as botocore does
// with ' '.join(value.split()).
std::string trim_all(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (unsigned char c : value) {
    if (std::isspace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

// RFC 3986 remove_dot_segments, plus collapsing of empty segments ("//"), exactly as botocore's
// normalize_url_path: "/a/b/.." gives "/a", a trailing slash is kept unless nothing remains.
std::string normalize_path(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string> out;
  for (auto& seg : split(path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else {
      out.push_back(seg);
    }
  }
  std::string result = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) result += (i ? "/" : "") + out[i];
  if (path.back() == '/' && !out.empty()) result += '/';
  return result;
}

// The canonical URI encodes the path as sent (so an already-encoded path is encoded again: the non-S3 "double
// encoding"), keeping the slashes.
std::string canonical_uri(std::string_view path, bool normalize) {
  std::string p = normalize ? normalize_path(path) : std::string(path.empty() ? "/" : path);
  return uri_encode(p, /*encode_slash=*/false);
}

// Each parameter decoded, then encoded per RFC 3986, sorted by encoded key then encoded value; a parameter without
// '=' gets an empty value. Decoding first makes "%E1%88%B4" and the raw UTF-8 bytes canonicalize alike.
std::string canonical_query(std::string_view query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string, std::string>> params;
  for (auto& pair : split(query, '&')) {
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view key = std::string_view(pair).substr(0, eq);
    std::string_view value = eq == std::string::npos ? std::string_view() : std::string_view(pair).substr(eq + 1);
    params.emplace_back(uri_encode(uri_decode(key)), uri_encode(uri_decode(value)));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

// Lowercased names (sorted, as std::map orders bytes) to trimmed values; repeated names join with ',' in order.
using HeaderMap = std::map<std::string, std::string>;

void add_header(HeaderMap& map, const std::string& name, std::string_view value) {
  std::string lower = to_lower(trim(name));
  auto [it, inserted] = map.try_emplace(lower, trim_all(value));
  if (!inserted) it->second += "," + trim_all(value);
}

struct Canonical {
  std::string request;
  std::string signed_headers;  // "host;x-amz-date"
};

Canonical build_canonical(std::string_view method, std::string_view path, std::string_view query,
                          const HeaderMap& headers, std::string_view payload_hash, bool normalize) {
  Canonical c;
  std::string header_block;
  for (auto& [name, value] : headers) {
    header_block += name + ":" + value + "\n";
    if (!c.signed_headers.empty()) c.signed_headers += ';';
    c.signed_headers += name;
  }
  c.request.append(method).append("\n");
  c.request += canonical_uri(path, normalize) + "\n";
  c.request += canonical_query(query) + "\n";
  c.request += header_block + "\n";
  c.request += c.signed_headers + "\n";
  c.request.append(payload_hash);
  return c;
}

std::string string_to_sign(std::string_view date_time, std::string_view scope, std::string_view canonical_request) {
  std::string s(kAlgorithm);
  s.append("\n").append(date_time).append("\n").append(scope).append("\n");
  return s + sha256_hex(canonical_request);
}

std::string signature_hex(std::string_view secret, std::string_view date, std::string_view region,
                          std::string_view service, std::string_view sts) {
  std::string key = hmac_sha256("AWS4" + std::string(secret), date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, kTerminator);
  return hex(hmac_sha256(key, sts));
}

std::string scope_of(std::string_view date, std::string_view region, std::string_view service) {
  std::string s(date);
  s.append("/").append(region).append("/").append(service).append("/").append(kTerminator);
  return s;
}

// All values of a header (case-insensitive), joined with ','; nullopt when absent.
std::optional<std::string> header_value(const Headers& headers, std::string_view name) {
  std::optional<std::string> out;
  for (auto& [n, v] : headers) {
    if (!iequals(trim(n), name)) continue;
    if (out) *out += "," + trim_all(v);
    else out = trim_all(v);
  }
  return out;
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Parses "20150830T123600Z".
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z' || !all_digits(s.substr(0, 8)) || !all_digits(s.substr(9, 6)))
    return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{to_int(s.substr(0, 4))}, month{static_cast<unsigned>(to_int(s.substr(4, 2)))},
                     day{static_cast<unsigned>(to_int(s.substr(6, 2)))}};
  int h = to_int(s.substr(9, 2)), m = to_int(s.substr(11, 2)), sec = to_int(s.substr(13, 2));
  if (!ymd.ok() || h > 23 || m > 59 || sec > 60) return std::nullopt;
  return time_point_cast<system_clock::duration>(sys_days{ymd} + hours{h} + minutes{m} + seconds{sec});
}

Error incomplete(std::string message) { return make_error("IncompleteSignature", std::move(message)); }

}  // namespace

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xF]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure; an empty result would then fail every signature check loudly.
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  return hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), md, &len))
    return "";
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto secs = floor<seconds>(t);
  auto midnight = floor<days>(secs);
  year_month_day ymd{midnight};
  hh_mm_ss hms{secs - midnight};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02ld%02ld%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

Signature sign(const SignableRequest& request, const Credentials& credentials, const SigningParams& params) {
  Signature sig;
  const std::string date_time = amz_date(params.time);
  const std::string date = date_time.substr(0, 8);
  const bool add_token = !credentials.session_token.empty();

  // Headers the signer sets replace any the request already carries (a retry re-signs with a fresh date).
  auto replaced = [&](std::string_view lower) {
    return lower == "x-amz-date" || (add_token && lower == "x-amz-security-token") ||
           (params.sign_body_header && lower == "x-amz-content-sha256");
  };

  std::string payload_hash = sha256_hex(request.body);
  sig.added_headers.emplace_back("X-Amz-Date", date_time);
  if (add_token) sig.added_headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  if (params.sign_body_header) sig.added_headers.emplace_back("X-Amz-Content-SHA256", payload_hash);

  HeaderMap headers;
  for (auto& [name, value] : request.headers) {
    std::string lower = to_lower(trim(name));
    if (never_signed(lower) || replaced(lower)) continue;
    // As in botocore: a caller-provided content hash (e.g. UNSIGNED-PAYLOAD) is what gets signed.
    if (lower == "x-amz-content-sha256") payload_hash = trim_all(value);
    add_header(headers, name, value);
  }
  for (auto& [name, value] : sig.added_headers) add_header(headers, name, value);

  Canonical c = build_canonical(request.method, request.path, request.query, headers, payload_hash,
                                params.normalize_path);
  const std::string scope = scope_of(date, params.region, params.service);
  sig.canonical_request = std::move(c.request);
  sig.string_to_sign = string_to_sign(date_time, scope, sig.canonical_request);
  sig.signature = signature_hex(credentials.secret_access_key, date, params.region, params.service,
                                sig.string_to_sign);
  sig.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope +
                      ", SignedHeaders=" + c.signed_headers + ", Signature=" + sig.signature;
  return sig;
}

Headers signed_headers(const SignableRequest& request, const Credentials& credentials, const SigningParams& params) {
  Signature sig = sign(request, credentials, params);
  Headers out;
  for (auto& h : request.headers) {
    bool superseded = iequals(h.first, "authorization") ||
                      std::any_of(sig.added_headers.begin(), sig.added_headers.end(),
                                  [&](auto& added) { return iequals(trim(h.first), added.first); });
    if (!superseded) out.push_back(h);
  }
  out.insert(out.end(), sig.added_headers.begin(), sig.added_headers.end());
  out.emplace_back("Authorization", sig.authorization);
  return out;
}

Result<AuthorizationHeader> parse_authorization(std::string_view value) {
  value = trim(value);
  if (!value.starts_with(kAlgorithm) || value.size() == kAlgorithm.size() ||
      !std::isspace(static_cast<unsigned char>(value[kAlgorithm.size()])))
    return incomplete("Authorization header must start with '" + std::string(kAlgorithm) + " ' (got '" +
                      std::string(value.substr(0, value.find(' '))) + "')");
  std::map<std::string, std::string> parts;
  for (auto& item : split(value.substr(kAlgorithm.size()), ',')) {
    std::string_view kv = trim(item);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos)
      return incomplete("Authorization header has a malformed component '" + std::string(kv) + "'");
    if (!parts.emplace(std::string(trim(kv.substr(0, eq))), std::string(trim(kv.substr(eq + 1)))).second)
      return incomplete("Authorization header repeats '" + std::string(trim(kv.substr(0, eq))) + "'");
  }
  std::string missing;
  for (const char* key : {"Credential", "SignedHeaders", "Signature"})
    if (parts[key].empty()) missing += std::string(missing.empty() ? "" : " ") + "Authorization header requires '" +
                                       key + "' parameter.";
  if (!missing.empty()) return incomplete(missing);

  AuthorizationHeader out;
  auto cred = split(parts["Credential"], '/');
  if (cred.size() != 5 || cred[0].empty() || cred[1].size() != 8 || !all_digits(cred[1]) || cred[2].empty() ||
      cred[3].empty() || cred[4] != kTerminator)
    return incomplete("Credential '" + parts["Credential"] +
                      "' is not of the form KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
  out.access_key_id = cred[0];
  out.date = cred[1];
  out.region = cred[2];
  out.service = cred[3];
  out.signed_headers = split(parts["SignedHeaders"], ';');
  if (std::any_of(out.signed_headers.begin(), out.signed_headers.end(), [](auto& h) { return h.empty(); }))
    return incomplete("SignedHeaders '" + parts["SignedHeaders"] + "' has an empty name");
  out.signature = parts["Signature"];
  return out;
}

Result<VerifiedRequest> verify(const SignableRequest& request,
                               const std::function<std::optional<std::string>(const std::string&)>& secret_for,
                               std::chrono::system_clock::time_point now) {
  auto auth_value = header_value(request.headers, "authorization");
  if (!auth_value || auth_value->empty())
    return make_error("MissingAuthenticationToken", "Request is missing Authentication Token");
  auto auth = parse_authorization(*auth_value);
  if (!auth) return auth.error();

  auto date_value = header_value(request.headers, "x-amz-date");
  if (!date_value) return incomplete("Authorization header requires existence of a 'X-Amz-Date' header.");
  auto when = parse_amz_date(*date_value);
  if (!when) return incomplete("X-Amz-Date '" + *date_value + "' is not of the form YYYYMMDDTHHMMSSZ");

  auto& signed_list = auth->signed_headers;
  if (std::find(signed_list.begin(), signed_list.end(), "host") == signed_list.end())
    return make_error("SignatureDoesNotMatch", "'Host' must be a 'SignedHeader' in the AWS Authorization.");

  auto secret = secret_for(auth->access_key_id);
  if (!secret)
    return make_error("InvalidClientTokenId", "The security token included in the request is invalid (unknown access "
                                              "key id '" + auth->access_key_id + "').");

  if (date_value->substr(0, 8) != auth->date)
    return make_error("SignatureDoesNotMatch", "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                               "version of date from HTTP: '" + auth->date + "' != '" +
                                                   date_value->substr(0, 8) + "'");
  if (*when < now - kMaxSkew)
    return make_error("SignatureDoesNotMatch", "Signature expired: " + *date_value + " is now earlier than " +
                                                   amz_date(now - kMaxSkew) + " (" + amz_date(now) + " - 15 min.)");
  if (*when > now + kMaxSkew)
    return make_error("SignatureDoesNotMatch", "Signature not yet current: " + *date_value + " is still later than " +
                                                   amz_date(now + kMaxSkew) + " (" + amz_date(now) + " + 15 min.)");

  // Only the headers the client says it signed; they must all be present.
  HeaderMap headers;
  for (auto& name : signed_list) {
    auto v = header_value(request.headers, name);
    if (!v) return make_error("SignatureDoesNotMatch", "Signed header '" + name + "' is not in the request");
    headers[to_lower(name)] = *v;
  }
  // A declared body hash must be the body's (or UNSIGNED-PAYLOAD); it then stands for the body, as for the signer.
  std::string payload_hash = sha256_hex(request.body);
  if (auto declared = header_value(request.headers, "x-amz-content-sha256")) {
    if (*declared != payload_hash && *declared != "UNSIGNED-PAYLOAD")
      return make_error("SignatureDoesNotMatch", "The provided 'x-amz-content-sha256' header does not match what "
                                                 "was computed.");
    payload_hash = *declared;
  }

  Canonical c = build_canonical(request.method, request.path, request.query, headers, payload_hash, true);
  // The client's SignedHeaders line is signed verbatim; ours is rebuilt sorted, so a reordered list fails below.
  std::string sts = string_to_sign(*date_value, scope_of(auth->date, auth->region, auth->service), c.request);
  std::string expected = signature_hex(*secret, auth->date, auth->region, auth->service, sts);
  if (expected.size() != auth->signature.size() ||
      CRYPTO_memcmp(expected.data(), auth->signature.data(), expected.size()) != 0)
    return make_error("SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided. Check your AWS "
                      "Secret Access Key and signing method. Consult the service documentation for details.\n\nThe "
                      "Canonical String for this request should have been\n'" + c.request +
                          "'\n\nThe String-to-Sign should have been\n'" + sts + "'\n");
  return VerifiedRequest{auth->access_key_id, auth->region, auth->service};
}

}  // namespace hasg::aws
