#include "core/aws_values.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

namespace hasg::core {

bool is_instance_id(std::string_view s) {
  if (!s.starts_with("i-")) return false;
  std::string_view hex = s.substr(2);
  return (hex.size() == 8 || hex.size() == 17) &&
         std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

namespace {

// inet_pton is pure (no I/O) and the strictest parser at hand: 4 decimal parts for AF_INET, no zone for AF_INET6.
bool parses_as(int family, std::string_view s) {
  // INET6_ADDRSTRLEN - 1; a NUL would end the C string early and let what follows it through.
  if (s.empty() || s.size() > 45 || s.find('\0') != std::string_view::npos) return false;
  char buf[46];
  s.copy(buf, s.size());
  buf[s.size()] = '\0';
  unsigned char out[16];
  return inet_pton(family, buf, out) == 1;
}

}  // namespace

bool is_ipv4_address(std::string_view s) { return parses_as(AF_INET, s); }

bool is_ipv6_address(std::string_view s) { return parses_as(AF_INET6, s); }

bool is_one_line(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace hasg::core
