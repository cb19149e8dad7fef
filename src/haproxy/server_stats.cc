#include "haproxy/server_stats.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "haproxy/runtime_command.h"
#include "util/strings.h"

namespace hasg::haproxy {

namespace {

// One CSV line into fields. HAProxy quotes a text field holding a comma or a quote (doubling the quote), e.g. a
// last_chk or check_desc message; the other fields are bare.
std::vector<std::string> csv_fields(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// A number column; `fallback` when empty (HAProxy leaves a column empty where it does not apply). Counters, gauges
// and durations are never negative, and those kept in an int fit one (a fuzzed "scur" of -5 or 2^40 is not HAProxy).
bool number(const std::string& s, long long& out, long long fallback,
            long long max = std::numeric_limits<long long>::max()) {
  std::string_view t = trim(s);
  if (t.empty()) {
    out = fallback;
    return true;
  }
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc() && p == t.data() + t.size() && out >= 0 && out <= max;
}

}  // namespace

Result<std::vector<ServerStats>> parse_server_stats(const std::string& text) {
  auto lines = lines_of(text, /*strip_cr=*/true);
  size_t i = 0;
  while (i < lines.size() && trim(lines[i]).empty()) ++i;
  if (i == lines.size() || !lines[i].starts_with("# "))
    return make_error("ProtocolError", "\"show stat\": missing the \"# pxname,svname,...\" header");
  const auto header = csv_fields(lines[i].substr(2));
  auto col = [&](std::string_view name) -> int {
    for (size_t c = 0; c < header.size(); ++c)
      if (header[c] == name) return static_cast<int>(c);
    return -1;
  };
  const int c_px = col("pxname"), c_sv = col("svname"), c_scur = col("scur"), c_stot = col("stot"),
            c_status = col("status"), c_weight = col("weight"), c_lastchg = col("lastchg"),
            c_chk = col("check_status"), c_code = col("check_code"), c_dur = col("check_duration"),
            c_req = col("req_tot"), c_last = col("last_chk"), c_addr = col("addr");
  if (c_px < 0 || c_sv < 0 || c_scur < 0 || c_status < 0)
    return make_error("ProtocolError", "\"show stat\": header lacks pxname, svname, scur or status");

  std::vector<ServerStats> out;
  for (++i; i < lines.size(); ++i) {
    if (trim(lines[i]).empty() || lines[i][0] == '#') continue;
    const auto f = csv_fields(lines[i]);
    auto at = [&](int c) -> const std::string& {
      static const std::string none;
      return c >= 0 && static_cast<size_t>(c) < f.size() ? f[static_cast<size_t>(c)] : none;
    };
    if (f.size() <= static_cast<size_t>(std::max({c_px, c_sv, c_scur, c_status})))
      return make_error("ProtocolError", "\"show stat\": short line \"" + one_line(lines[i]) + "\"");
    const std::string& sv = at(c_sv);
    if (sv == "FRONTEND" || sv == "BACKEND") continue;
    ServerStats s;
    s.backend = at(c_px);
    s.server = sv;
    s.address = at(c_addr);
    s.status = at(c_status);
    s.check_status = at(c_chk);
    if (s.check_status.starts_with("* ")) s.check_status.erase(0, 2);  // a check in progress: its last result
    s.check_code = at(c_code);
    s.check_detail = at(c_last);
    long long scur = 0, weight = 0, dur = -1, req = -1, stot = -1, lastchg = -1;
    constexpr long long kInt = std::numeric_limits<int>::max();
    if (!number(at(c_scur), scur, 0, kInt) || !number(at(c_weight), weight, 0, kInt) ||
        !number(at(c_dur), dur, -1, kInt) ||
        !number(at(c_req), req, -1) || !number(at(c_stot), stot, -1) || !number(at(c_lastchg), lastchg, -1))
      return make_error("ProtocolError", "\"show stat\": a number column is not a number in \"" +
                                             one_line(lines[i]) + "\"");
    s.sessions = static_cast<int>(scur);
    s.weight = static_cast<int>(weight);
    s.check_ms = static_cast<int>(dur);
    // req_tot counts HTTP requests and is empty in TCP mode, where a session is the unit of work.
    s.requests = req >= 0 ? req : stot;
    s.last_change_s = lastchg;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace hasg::haproxy
