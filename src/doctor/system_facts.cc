// The system's side of doctor's facts: sysctls, descriptor limits, programs.
#include <limits>

#include "doctor/gather.h"
#include "util/files.h"
#include "util/strings.h"

namespace hasg::doctor {

namespace {

std::optional<long> to_long(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<long> read_long(const Host& host, const std::string& path) {
  auto text = host.read_file(path);
  if (!text) return std::nullopt;
  return to_long(*text);
}

}  // namespace

Result<std::string> RealHost::read_file(const std::string& path) const { return read_text_file(path); }

Result<ProgramResult> RealHost::run(const std::vector<std::string>& argv) const {
  return run_program(argv, std::chrono::seconds(10));
}

std::optional<long> parse_hard_nofile(std::string_view text) {
  // "Max open files            20000                20000                files"
  for (auto line : lines_of(text, true)) {
    if (!line.starts_with("Max open files")) continue;
    auto w = split_ws(line.substr(std::string_view("Max open files").size()));
    if (w.size() < 2) return std::nullopt;
    return to_long(w[1]);
  }
  return std::nullopt;
}

std::optional<std::pair<long, long>> parse_port_range(std::string_view text) {
  auto w = split_ws(trim(text));
  if (w.size() != 2) return std::nullopt;
  auto lo = to_long(w[0]), hi = to_long(w[1]);
  if (!lo || !hi || *lo > *hi) return std::nullopt;
  return std::pair{*lo, *hi};
}

std::optional<long> parse_unit_limit(std::string_view text, long infinity) {
  std::optional<long> limit;
  for (auto line : lines_of(text, true)) {
    if (line == "LoadState=not-found") return std::nullopt;
    if (!line.starts_with("LimitNOFILE=")) continue;
    auto v = trim(line.substr(std::string_view("LimitNOFILE=").size()));
    limit = v == "infinity" ? std::optional<long>(infinity) : to_long(v);
  }
  return limit;
}

std::string info_field(std::string_view show_info, std::string_view key) {
  for (auto line : lines_of(show_info, true)) {
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':')
      return std::string(trim(line.substr(key.size() + 1)));
  }
  return "";
}

FdLimits gather_fd_limits(const Host& host, const std::string& unit, int master_pid) {
  FdLimits l;
  l.nr_open = read_long(host, "/proc/sys/fs/nr_open");
  l.file_max = read_long(host, "/proc/sys/fs/file-max");
  l.unit = unit;
  // systemd knows the limit the next start gets; off systemd (containers, tests) this simply fails.
  if (auto r = host.run({"systemctl", "show", unit, "-p", "LoadState", "-p", "LimitNOFILE"}); r && r->success())
    l.unit_limit = parse_unit_limit(r->output, l.nr_open.value_or(std::numeric_limits<long>::max()));
  if (master_pid > 0)
    if (auto text = host.read_file("/proc/" + std::to_string(master_pid) + "/limits"))
      l.process_limit = parse_hard_nofile(*text);
  return l;
}

NetLimits gather_net_limits(const Host& host) {
  NetLimits n;
  n.somaxconn = read_long(host, "/proc/sys/net/core/somaxconn");
  if (auto text = host.read_file("/proc/sys/net/ipv4/ip_local_port_range")) n.ephemeral_ports = parse_port_range(*text);
  return n;
}

HaproxyBinary gather_binary(const Host& host, const std::string& path) {
  HaproxyBinary b;
  b.path = path;
  auto r = host.run({path, "-v"});
  if (!r) {
    b.error = Failure{r.error().code, r.error().message};
    return b;
  }
  // "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/"
  auto lines = lines_of(r->output, true);
  auto words = lines.empty() ? std::vector<std::string_view>{} : split_ws(lines.front());
  if (!r->success() || words.size() < 3 || words[1] != "version") {
    b.error = Failure{"UnexpectedOutput", r->how() + ": " + std::string(trim(r->output.substr(0, 200)))};
    return b;
  }
  b.version = std::string(words[2]);
  return b;
}

}  // namespace hasg::doctor
