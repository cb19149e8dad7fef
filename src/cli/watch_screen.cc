#include "cli/watch_screen.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace hasg::cli {

namespace {

// A handful of ANSI (ECMA-48 SGR) sequences for highlighting: every terminal in use understands them, and
// ncurses would bring a second way of writing to the screen for three attributes.
constexpr const char* kReverse = "\x1b[7m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kRed = "\x1b[1;31m";
constexpr const char* kReset = "\x1b[0m";

enum class Align { Left, Right };
struct Column {
  const char* title;
  Align align;
};
const std::vector<Column> kColumns = {
    {"SERVER", Align::Left}, {"ZONE", Align::Left},   {"LIFECYCLE", Align::Left}, {"HAPROXY", Align::Left},
    {"CHECK", Align::Left},  {"WEIGHT", Align::Right}, {"SESS", Align::Right},    {"REQ/S", Align::Right},
    {"DRAIN", Align::Left},  {"ADDRESS", Align::Left}, {"NOTE", Align::Left}};

std::string seconds_text(double s) { return fmt::format("{}s", static_cast<long long>(std::ceil(s))); }

// HAProxy's word for the server's state: show stat's status when read, else from its admin and operational state.
std::string haproxy_state(const daemon::StatusHaproxySide& h) {
  if (h.has_stats && !h.status.empty()) return h.status;
  if (h.admin == "maint") return "MAINT";
  if (h.admin == "drain") return "DRAIN";
  return h.up ? "UP" : "DOWN";
}

std::string check_text(const daemon::StatusHaproxySide& h) {
  if (!h.has_stats || h.check_status.empty()) return "-";
  std::string out = h.check_status;
  if (!h.check_code.empty()) out += "/" + h.check_code;
  if (h.check_ms >= 0) out += fmt::format(" {}ms", h.check_ms);
  return out;
}

std::string drain_text(const daemon::StatusDrain& d) {
  if (!d.seconds_left) return "?";
  return (d.estimated ? "~" : "") + seconds_text(*d.seconds_left) + " left";
}

// What the NOTE column says: the disagreement first, then what explains the row.
std::string note_text(const daemon::StatusServer& s) {
  if (!s.mismatches.empty()) {
    std::string out;
    for (const auto& m : s.mismatches) out += (out.empty() ? "" : "; ") + m;
    return out;
  }
  std::vector<std::string> parts;
  if (s.group && s.group->hook && !s.group->hook->completed)
    parts.push_back("hook " + s.group->hook->name + " " + seconds_text(s.group->hook->waiting_seconds));
  // Why a member is not served, unless its lifecycle state (a column of its own) says it.
  if (s.group && !s.group->served && s.group->lifecycle == "InService" && !s.group->reason.empty())
    parts.push_back(s.group->reason);
  if (s.drain && s.drain->estimated && s.drain->seconds_left) parts.push_back("drain start from HAProxy's lastchg");
  if (s.haproxy && !s.haproxy->check_detail.empty()) parts.push_back(s.haproxy->check_detail);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

// Cuts a line to `width` columns on a terminal, so that nothing wraps and the screen keeps its shape. Bytes count
// as columns: the table is ASCII (instance ids, zones, HAProxy's words); only a message in the last column could
// hold a wider character, and cutting it costs that column's end.
std::string fit(std::string line, const ScreenOptions& opt) {
  const auto width = static_cast<size_t>(std::max(opt.width, 0));
  if (opt.tty && width > 0 && line.size() > width) line.resize(width);
  return line;
}

std::string styled(const std::string& text, const char* style, const ScreenOptions& opt) {
  return opt.tty ? style + text + kReset : text;
}

std::string time_text(core::TimePoint t) {
  std::time_t tt = core::Clock::to_time_t(t);
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(tt));
}

}  // namespace

std::optional<double> request_rate(const StatusSample& cur, const StatusSample* prev, const std::string& backend,
                                   const std::string& server) {
  if (prev == nullptr) return std::nullopt;
  auto requests = [&](const StatusSample& s) -> long long {
    for (const auto& b : s.backends) {
      if (b.backend != backend) continue;
      for (const auto& srv : b.servers)
        if (srv.server == server && srv.haproxy && srv.haproxy->has_stats) return srv.haproxy->requests;
    }
    return -1;
  };
  const long long now = requests(cur), before = requests(*prev);
  const double dt = std::chrono::duration<double>(cur.at - prev->at).count();
  if (now < 0 || before < 0 || now < before || dt <= 0) return std::nullopt;
  return static_cast<double>(now - before) / dt;
}

std::string render_screen(const StatusSample& cur, const StatusSample* prev, const ScreenOptions& opt) {
  std::string out;
  auto line = [&](const std::string& text, const char* style = nullptr) {
    std::string l = fit(text, opt);
    out += (style != nullptr ? styled(l, style, opt) : l) + "\n";
  };

  std::string title = "haproxy-asg status  " + time_text(cur.at);
  if (opt.watch) title += fmt::format("  every {:g}s", std::chrono::duration<double>(opt.interval).count());
  if (!cur.source.empty()) title += "  " + cur.source;
  if (opt.tty && opt.width > 0 && title.size() < static_cast<size_t>(opt.width))
    title.resize(static_cast<size_t>(opt.width), ' ');  // the reverse-video bar spans the screen
  line(title, kReverse);
  if (!cur.note.empty()) line(cur.note);
  if (!cur.error.empty()) line("error: " + cur.error, kRed);

  for (const auto& b : cur.backends) {
    size_t members = 0, in_service = 0, in_haproxy = 0, up = 0, draining = 0, mismatched = 0;
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : b.servers) {
      if (s.group && !s.group->lifecycle.empty()) ++members;
      if (s.group && s.group->served) ++in_service;
      if (s.haproxy) ++in_haproxy;
      if (s.haproxy && s.haproxy->up && s.haproxy->admin == "ready") ++up;
      if (s.drain) ++draining;
      if (!s.mismatches.empty()) ++mismatched;
      auto rate = request_rate(cur, prev, b.backend, s.server);
      rows.push_back({
          s.server,
          s.group && !s.group->zone.empty() ? s.group->zone : "-",
          s.group && !s.group->lifecycle.empty() ? s.group->lifecycle : "-",
          s.haproxy ? haproxy_state(*s.haproxy) : "-",
          s.haproxy ? check_text(*s.haproxy) : "-",
          s.haproxy && s.haproxy->has_stats ? std::to_string(s.haproxy->weight) : "-",
          s.haproxy ? std::to_string(s.haproxy->sessions) : "-",
          rate ? fmt::format("{:.1f}", *rate) : "-",
          s.drain ? drain_text(*s.drain) : "",
          s.haproxy ? s.haproxy->address : (s.group && !s.group->address.empty() ? s.group->address : "-"),
          note_text(s),
      });
    }
    out += "\n";
    line(fmt::format("backend {} <- group {}: {} in the group ({} served), {} in HAProxy ({} up), {} draining, {} "
                     "mismatch{}{}",
                     b.backend, b.group, members, in_service, in_haproxy, up, draining, mismatched,
                     mismatched == 1 ? "" : "es", b.haproxy_running ? "" : "; HAProxy is not running"),
         kBold);
    std::vector<size_t> width(kColumns.size());
    for (size_t c = 0; c < kColumns.size(); ++c) {
      width[c] = std::string(kColumns[c].title).size();
      for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
    }
    auto format_row = [&](const std::vector<std::string>& cells, char marker) {
      std::string l(1, marker);
      l += ' ';
      for (size_t c = 0; c < cells.size(); ++c) {
        const bool last = c + 1 == cells.size();
        std::string cell = cells[c];
        if (!last) {
          std::string pad(width[c] - cell.size(), ' ');
          cell = kColumns[c].align == Align::Right ? pad + cell : cell + pad;
        }
        l += cell + (last ? "" : "  ");
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      return l;
    };
    std::vector<std::string> titles;
    for (const auto& c : kColumns) titles.push_back(c.title);
    line(format_row(titles, ' '));
    for (size_t i = 0; i < rows.size(); ++i) {
      const bool bad = !b.servers[i].mismatches.empty();
      // The mark is text, so that a mismatch shows without colours too (plain output, a log, a pipe).
      line(format_row(rows[i], bad ? '!' : ' '), bad ? kRed : nullptr);
    }
    if (rows.empty()) line("  (no servers: the group has no instances and HAProxy no servers in this backend)");
  }
  if (opt.tty && opt.watch) {
    out += "\n";
    line("Ctrl-C quits. !: the group's view and HAProxy's disagree.");
  }
  return out;
}

}  // namespace hasg::cli
