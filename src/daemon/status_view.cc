#include "daemon/status_view.h"

#include <algorithm>
#include <map>

#include "haproxy/runtime_client.h"
#include "haproxy/unix_socket.h"

namespace hasg::daemon {

namespace {

double seconds_between(core::TimePoint from, core::TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

StatusHaproxySide haproxy_side(const core::ActualServer& s, const haproxy::ServerStats* st) {
  StatusHaproxySide h;
  h.address = core::endpoint(s.address, s.port);
  h.ip = s.address;
  h.admin = core::to_string(s.admin);
  h.up = s.up;
  h.sessions = s.current_sessions;
  if (st != nullptr) {
    h.has_stats = true;
    h.sessions = st->sessions;  // read with the statistics: the fresher of the two
    h.status = st->status;
    h.weight = st->weight;
    h.requests = st->requests;
    h.last_change_seconds = st->last_change_s;
    h.check_status = st->check_status;
    h.check_code = st->check_code;
    h.check_ms = st->check_ms;
    h.check_detail = st->check_detail;
  }
  return h;
}

// The drain of a server, if it drains: from the drain book, else (HAProxy drains it, nobody's book says since when)
// estimated from lastchg. A server held out of rotation for a launch hook is in HAProxy's drain state too, but it
// is arriving, not draining.
std::optional<StatusDrain> drain_of(const StatusServer& s, const core::DrainRecord* rec, double timeout,
                                    core::TimePoint now) {
  StatusDrain d;
  d.timeout_seconds = timeout;
  if (rec != nullptr) {
    d.seconds = std::max(0.0, seconds_between(rec->since, now));
  } else {
    if (!s.haproxy || s.haproxy->admin != "drain") return std::nullopt;
    if (s.group && core::is_arriving(s.group->lifecycle)) return std::nullopt;
    d.estimated = true;
    if (s.haproxy->has_stats && s.haproxy->last_change_seconds >= 0)
      d.seconds = static_cast<double>(s.haproxy->last_change_seconds);
  }
  if (d.seconds) d.seconds_left = std::max(0.0, timeout - *d.seconds);
  return d;
}

}  // namespace

std::vector<std::string> status_mismatches(const StatusServer& s) {
  std::vector<std::string> out;
  const bool served = s.group && s.group->served;
  if (served && !s.haproxy) out.push_back("InService in the group, not in HAProxy");
  // Draining (or in maintenance) and gone from the group: on its way out, as it should be.
  if (s.haproxy && !s.group && s.haproxy->admin == "ready") out.push_back("in HAProxy, not in the group");
  if (!s.group || !s.haproxy) return out;
  const auto& g = *s.group;
  const auto& h = *s.haproxy;
  if (served) {
    if (h.admin == "drain") out.push_back("draining in HAProxy while InService");
    if (h.admin == "maint") out.push_back("in maintenance in HAProxy while InService");
    if (h.admin == "ready" && !h.up) out.push_back("DOWN in HAProxy while InService");
    if (!g.address.empty() && g.address != h.ip)
      out.push_back("address differs: group " + g.address + ", HAProxy " + h.ip);
  } else if (h.admin == "ready" && !core::is_arriving(g.lifecycle)) {
    // The reason only when the lifecycle state does not say it already ("InService (instance stopped)").
    const bool say_reason = !g.reason.empty() && g.lifecycle == "InService";
    out.push_back("in rotation in HAProxy while " + g.lifecycle + (say_reason ? " (" + g.reason + ")" : ""));
  }
  return out;
}

std::vector<StatusBackend> status_view(const config::Config& cfg, const CycleReport& report,
                                       const StatusInputs& in) {
  const auto& actual = in.haproxy != nullptr ? in.haproxy->actual : report.actual;
  std::vector<StatusBackend> out;
  for (const auto& b : cfg.backends) {
    std::map<std::string, StatusServer> rows;
    for (const auto& g : report.groups) {
      if (g.group != b.group) continue;
      for (const auto& m : g.members) {
        auto& side = rows[m.instance_id].group.emplace();
        side.lifecycle = m.lifecycle_state;
        side.served = m.served;
        side.address = b.address_family == "ipv6" ? m.ipv6 : m.private_ipv4;
        if (side.address.empty()) side.address = m.private_ipv4.empty() ? m.ipv6 : m.private_ipv4;
        side.reason = m.not_served_reason;
        side.zone = m.availability_zone;
        side.health = m.health_status;
      }
    }
    // Instances waiting on a lifecycle hook haproxy-asg owns, and for how long.
    for (const auto& [key, h] : report.hooks) {
      if (h.group != b.group) continue;
      const std::string instance = key.substr(key.rfind('/') + 1);
      auto& row = rows[instance];
      if (!row.group) row.group.emplace();
      row.group->hook = StatusHook{h.hook, h.transition, seconds_between(h.since, in.now), h.completed};
    }
    for (const auto& a : actual) {
      if (a.backend != b.backend) continue;
      for (const auto& s : a.servers) {
        const haproxy::ServerStats* st = nullptr;
        if (in.haproxy != nullptr) {
          auto it = in.haproxy->stats.find(core::server_key(b.backend, s.name));
          if (it != in.haproxy->stats.end()) st = &it->second;
        }
        rows[s.name].haproxy = haproxy_side(s, st);
      }
    }
    StatusBackend sb{b.backend, b.group, in.haproxy != nullptr ? in.haproxy->running : report.haproxy_running, {}};
    const double timeout = std::chrono::duration<double>(b.drain_timeout).count();
    for (auto& [name, row] : rows) {
      row.server = name;
      const core::DrainRecord* rec = nullptr;
      if (in.drains != nullptr) {
        auto it = in.drains->find(core::server_key(b.backend, name));
        if (it != in.drains->end()) rec = &it->second;
      }
      row.drain = drain_of(row, rec, timeout, in.now);
      row.mismatches = status_mismatches(row);
      sb.servers.push_back(std::move(row));
    }
    out.push_back(std::move(sb));
  }
  return out;
}

Result<HaproxyNow> read_haproxy_now(const std::string& runtime_socket, const std::vector<std::string>& backends) {
  haproxy::UnixSocketTransport transport(runtime_socket, std::chrono::milliseconds(2000));
  haproxy::RuntimeClient client(transport);
  HaproxyNow now;
  auto actual = client.servers(backends);
  if (!actual) {
    if (actual.error().code == "HaproxyNotRunning") return now;
    return actual.error();
  }
  auto stats = client.server_stats(backends);
  if (!stats) return stats.error();
  now.running = true;
  now.actual = std::move(*actual);
  now.stats = std::move(*stats);
  return now;
}

nlohmann::json status_to_json(const std::vector<StatusBackend>& view) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : view) {
    nlohmann::json servers = nlohmann::json::array();
    for (const auto& s : b.servers) {
      nlohmann::json row = {{"server", s.server}, {"mismatches", s.mismatches}};
      if (s.group) {
        const auto& g = *s.group;
        row["group"] = {{"lifecycle", g.lifecycle}, {"served", g.served}, {"address", g.address},
                        {"reason", g.reason},       {"zone", g.zone},     {"health", g.health}};
        if (g.hook)
          row["group"]["hook"] = {{"name", g.hook->name},
                                  {"transition", g.hook->transition},
                                  {"waiting_seconds", g.hook->waiting_seconds},
                                  {"completed", g.hook->completed}};
      }
      if (s.haproxy) {
        const auto& h = *s.haproxy;
        row["haproxy"] = {{"address", h.address}, {"ip", h.ip},         {"admin", h.admin},
                          {"up", h.up},           {"sessions", h.sessions}};
        if (h.has_stats) {
          row["haproxy"]["status"] = h.status;
          row["haproxy"]["weight"] = h.weight;
          row["haproxy"]["requests"] = h.requests;
          row["haproxy"]["last_change_seconds"] = h.last_change_seconds;
          row["haproxy"]["check"] = {{"status", h.check_status},
                                     {"code", h.check_code},
                                     {"duration_ms", h.check_ms},
                                     {"detail", h.check_detail}};
        }
      }
      if (s.drain) {
        const auto& d = *s.drain;
        nlohmann::json dj = {{"timeout_seconds", d.timeout_seconds}, {"estimated", d.estimated}};
        if (d.seconds) dj["seconds"] = *d.seconds;
        if (d.seconds_left) dj["seconds_left"] = *d.seconds_left;
        row["drain"] = std::move(dj);
      }
      servers.push_back(std::move(row));
    }
    out.push_back({{"backend", b.backend},
                   {"group", b.group},
                   {"haproxy_running", b.haproxy_running},
                   {"servers", std::move(servers)}});
  }
  return out;
}

Result<std::vector<StatusBackend>> status_from_json(const nlohmann::json& backends) {
  auto bad = [](const std::string& what) {
    return make_error("InvalidStatus", "the status answer is not what haproxy-asg serves: " + what);
  };
  if (!backends.is_array()) return bad("\"backends\" is not a list");
  // Optional members read leniently (a daemon of another version may lack some); the names are required.
  auto str = [](const nlohmann::json& j, const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  auto num = [](const nlohmann::json& j, const char* k, double fallback) {
    return j.contains(k) && j[k].is_number() ? j[k].get<double>() : fallback;
  };
  auto flag = [](const nlohmann::json& j, const char* k) {
    return j.contains(k) && j[k].is_boolean() && j[k].get<bool>();
  };
  std::vector<StatusBackend> out;
  for (const auto& bj : backends) {
    if (!bj.is_object() || !bj.contains("backend") || !bj.contains("servers") || !bj["servers"].is_array())
      return bad("a backend without \"backend\" or \"servers\"");
    StatusBackend b{str(bj, "backend"), str(bj, "group"), flag(bj, "haproxy_running"), {}};
    for (const auto& sj : bj["servers"]) {
      if (!sj.is_object() || !sj.contains("server")) return bad("a server without \"server\"");
      StatusServer s;
      s.server = str(sj, "server");
      if (sj.contains("group") && sj["group"].is_object()) {
        const auto& gj = sj["group"];
        StatusGroupSide g{str(gj, "lifecycle"), flag(gj, "served"), str(gj, "address"), str(gj, "reason"),
                          str(gj, "zone"),      str(gj, "health"),  std::nullopt};
        if (gj.contains("hook") && gj["hook"].is_object()) {
          const auto& hj = gj["hook"];
          g.hook = StatusHook{str(hj, "name"), str(hj, "transition"), num(hj, "waiting_seconds", 0),
                              flag(hj, "completed")};
        }
        s.group = std::move(g);
      }
      if (sj.contains("haproxy") && sj["haproxy"].is_object()) {
        const auto& hj = sj["haproxy"];
        StatusHaproxySide h;
        h.address = str(hj, "address");
        h.ip = str(hj, "ip");
        h.admin = str(hj, "admin");
        h.up = flag(hj, "up");
        h.sessions = static_cast<int>(num(hj, "sessions", 0));
        h.has_stats = hj.contains("status");
        h.status = str(hj, "status");
        h.weight = static_cast<int>(num(hj, "weight", 0));
        h.requests = static_cast<long long>(num(hj, "requests", -1));
        h.last_change_seconds = static_cast<long long>(num(hj, "last_change_seconds", -1));
        if (hj.contains("check") && hj["check"].is_object()) {
          const auto& cj = hj["check"];
          h.check_status = str(cj, "status");
          h.check_code = str(cj, "code");
          h.check_ms = static_cast<int>(num(cj, "duration_ms", -1));
          h.check_detail = str(cj, "detail");
        }
        s.haproxy = std::move(h);
      }
      if (sj.contains("drain") && sj["drain"].is_object()) {
        const auto& dj = sj["drain"];
        StatusDrain d;
        d.timeout_seconds = num(dj, "timeout_seconds", 0);
        d.estimated = flag(dj, "estimated");
        if (dj.contains("seconds") && dj["seconds"].is_number()) d.seconds = dj["seconds"].get<double>();
        if (dj.contains("seconds_left") && dj["seconds_left"].is_number())
          d.seconds_left = dj["seconds_left"].get<double>();
        s.drain = d;
      }
      if (sj.contains("mismatches") && sj["mismatches"].is_array()) {
        for (const auto& m : sj["mismatches"])
          if (m.is_string()) s.mismatches.push_back(m.get<std::string>());
      } else {
        s.mismatches = status_mismatches(s);  // an older daemon: judged here by the same rule
      }
      b.servers.push_back(std::move(s));
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace hasg::daemon
