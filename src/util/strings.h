#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hasg {

std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
// The first `max_fields` fields of `s` split at `sep`, as views into `s` (the rest of the line is not scanned:
// HAProxy's CSV rows have ~90 columns, of which a parser needs the first few).
std::vector<std::string_view> split_view(std::string_view s, char sep, size_t max_fields = SIZE_MAX);
// The lines of `text` without their '\n' (none after a final newline), as views; with `strip_cr`, a trailing '\r'
// is dropped too (HAProxy's answers), without it the bytes are kept as written (templates are rewritten verbatim).
std::vector<std::string_view> lines_of(std::string_view text, bool strip_cr = false);
// Words separated by runs of spaces and tabs (HAProxy's answers are column-aligned with either).
std::vector<std::string_view> split_ws(std::string_view s);
// The same, appended to `out` (a caller splitting many lines reuses one vector), up to `max_words` words (the rest
// of the line is not looked at).
void split_ws_into(std::string_view s, std::vector<std::string_view>& out, size_t max_words = SIZE_MAX);
// A character of HAProxy's names (proxies, servers, ACLs...): a letter, a digit, '-', '_', '.' or ':' (2.6's
// invalid_char() in src/tools.c refuses all others).
bool is_haproxy_name_char(char ch);
// A whole decimal integer, surrounding whitespace allowed; false on anything else.
bool parse_int(std::string_view s, int& out);
bool starts_with_icase(std::string_view s, std::string_view prefix);
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - _ . ~), as AWS wants it.
std::string uri_encode(std::string_view s, bool encode_slash = true);
std::string uri_decode(std::string_view s, bool plus_is_space = false);
// Parses durations like "5s", "250ms", "2m", "1h"; a bare number is seconds. Returns -1 on bad input.
long long parse_duration_ms(std::string_view s);

}  // namespace hasg
