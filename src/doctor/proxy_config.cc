// proxy_config_from (facts.h): the few settings doctor judges, read from the sections of haproxy.cfg.
#include <algorithm>

#include "doctor/facts.h"
#include "util/strings.h"

namespace hasg::doctor {

namespace {

long number(const std::vector<std::string>& d, size_t i) {
  int v = 0;
  return i < d.size() && parse_int(d[i], v) ? v : 0;
}

// A proxy's settings, its own over its defaults'.
struct Settings {
  long maxconn = 0;
  long backlog = 0;
  std::string balance;
  std::string hash_type;
};

Settings read(const haproxy::ConfigSection& s, Settings base) {
  for (const auto& d : s.directives) {
    if (d[0] == "maxconn") base.maxconn = number(d, 1);
    if (d[0] == "backlog") base.backlog = number(d, 1);
    if (d[0] == "balance" && d.size() > 1) base.balance = d[1];
    if (d[0] == "hash-type" && d.size() > 1) base.hash_type = d[1];
  }
  return base;
}

}  // namespace

ProxyConfig proxy_config_from(const std::vector<haproxy::ConfigSection>& sections) {
  ProxyConfig out;
  Settings defaults;
  for (const auto& s : sections) {
    if (s.keyword == "global") {
      for (const auto& d : s.directives) {
        if (d[0] == "maxconn") out.global_maxconn = number(d, 1);
        if (d[0] == "ulimit-n") out.global_ulimit_n = number(d, 1);
      }
    } else if (s.keyword == "defaults") {
      defaults = read(s, Settings{});
    } else if (s.keyword == "frontend" || s.keyword == "listen" || s.keyword == "backend") {
      Settings p = read(s, defaults);
      if (s.keyword != "frontend") {
        ProxyConfig::Backend b{s.name};
        if (!p.balance.empty()) b.balance = p.balance;
        if (!p.hash_type.empty()) b.hash_type = p.hash_type;
        out.backends.push_back(b);
      }
      if (s.keyword == "backend") continue;
      // A bind's "backlog", else the proxy's "backlog", else its maxconn (configuration.txt, "backlog":
      // "By default, HAProxy passes the frontend's maxconn value to the listen() syscall"), whose 0 means the
      // global maxconn.
      for (const auto& d : s.directives) {
        if (d[0] != "bind") continue;
        ProxyConfig::Listener l{s.name, 0, ""};
        auto it = std::find(d.begin(), d.end(), "backlog");
        if (it != d.end() && number(d, static_cast<size_t>(it - d.begin()) + 1) > 0) {
          l.backlog = number(d, static_cast<size_t>(it - d.begin()) + 1);
          l.from = "bind backlog";
        } else if (p.backlog > 0) {
          l.backlog = p.backlog;
          l.from = "backlog";
        } else if (p.maxconn > 0) {
          l.backlog = p.maxconn;
          l.from = "maxconn";
        }
        out.listeners.push_back(l);
      }
    }
  }
  return out;
}

}  // namespace hasg::doctor
