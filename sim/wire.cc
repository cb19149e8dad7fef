#include "sim/wire.h"

#include <openssl/evp.h>

#include <charconv>
#include <cstdio>
#include <ctime>
#include <pugixml.hpp>
#include <sstream>

#include "aws/clock.h"
#include "util/strings.h"

namespace hasg::sim {

std::string xml_string(const pugi::xml_document& doc) {
  std::ostringstream ss;
  doc.save(ss, "", pugi::format_raw);
  return ss.str();
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string iso8601_ms(std::chrono::system_clock::time_point t) { return aws::format_iso8601_utc_ms(t); }

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

Params parse_form(std::string_view text) {
  Params out;
  if (text.empty()) return out;
  for (const auto& pair : split(text, '&')) {
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string k = uri_decode(pair.substr(0, eq), true);
    std::string v = eq == std::string::npos ? "" : uri_decode(std::string_view(pair).substr(eq + 1), true);
    out.emplace(std::move(k), std::move(v));
  }
  return out;
}

std::string param(const Params& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? "" : it->second;
}

std::vector<std::string> list_param(const Params& p, const std::string& prefix) {
  std::map<int, std::string> byindex;
  for (const auto& [k, v] : p) {
    if (!k.starts_with(prefix + ".")) continue;
    std::string rest = k.substr(prefix.size() + 1);
    if (rest.find('.') != std::string::npos) continue;
    try {
      byindex[std::stoi(rest)] = v;
    } catch (...) {
    }
  }
  std::vector<std::string> out;
  for (auto& [i, v] : byindex) out.push_back(v);
  return out;
}

bool parse_offset(std::string_view s, size_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string random_hex(std::mt19937_64& rng, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(hex[rng() % 16]);
  return s;
}

std::string request_id() {
  thread_local std::mt19937_64 local{std::random_device{}()};
  return random_hex(local, 8) + "-" + random_hex(local, 4) + "-" + random_hex(local, 4) + "-" + random_hex(local, 4) +
         "-" + random_hex(local, 12);
}

Answer query_error(const char* xmlns, int status, const std::string& code, const std::string& message) {
  pugi::xml_document doc;
  auto root = doc.append_child("ErrorResponse");
  root.append_attribute("xmlns") = xmlns;
  auto err = root.append_child("Error");
  err.append_child("Type").text() = status >= 500 ? "Receiver" : "Sender";
  err.append_child("Code").text() = code.c_str();
  err.append_child("Message").text() = message.c_str();
  root.append_child("RequestId").text() = request_id().c_str();
  return {status, xml_string(doc)};
}

Answer ec2_error(int status, const std::string& code, const std::string& message) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto root = doc.append_child("Response");
  auto err = root.append_child("Errors").append_child("Error");
  err.append_child("Code").text() = code.c_str();
  err.append_child("Message").text() = message.c_str();
  root.append_child("RequestID").text() = request_id().c_str();
  return {status, xml_string(doc)};
}

Answer mixed_error(int status, const std::string& code, const std::string& message) {
  pugi::xml_document doc;
  auto root = doc.append_child("ErrorResponse");
  auto err = root.append_child("Errors").append_child("Error");
  err.append_child("Code").text() = code.c_str();
  err.append_child("Message").text() = message.c_str();
  root.append_child("RequestId").text() = request_id().c_str();
  return {status, xml_string(doc)};
}

}  // namespace hasg::sim
