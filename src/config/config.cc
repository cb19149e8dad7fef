#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/aws_values.h"
#include "util/strings.h"

namespace hasg::config {
namespace {

namespace fs = std::filesystem;

// Parsing stops at the first problem: an exception carrying the finished message keeps every check a one-liner.
struct ConfigException {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string filename) : file_(std::move(filename)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& what) const {
    throw ConfigException{where(at) + (key.empty() ? "" : key + ": ") + what};
  }

  std::string where(const YAML::Node& at) const {
    int line = at.IsDefined() ? at.Mark().line : -1;
    // yaml-cpp's lines are 0-based; a node without a position (null mark) is reported at line 1.
    return file_ + ":" + std::to_string(line >= 0 ? line + 1 : 1) + ": ";
  }

  static std::string kind(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map: return "a mapping";
      case YAML::NodeType::Sequence: return "a list";
      case YAML::NodeType::Null: return "nothing";
      case YAML::NodeType::Scalar: return "'" + core::printable(n.Scalar(), 200) + "'";
      default: return "an undefined value";
    }
  }

  // The entries of a mapping, checked against the known keys (unknown and repeated keys are errors: yaml-cpp keeps
  // the last of two equal keys silently, and a typo must not pass for a default).
  std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& map, const std::string& path,
                                                          const std::vector<std::string>& known) const {
    if (!map.IsMap()) fail(map, path.empty() ? "configuration" : path, "expected a mapping, got " + kind(map));
    std::vector<std::pair<std::string, YAML::Node>> out;
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node k = it->first;
      if (!k.IsScalar()) fail(k, path.empty() ? "configuration" : path, "keys must be plain names");
      std::string name = k.Scalar();
      std::string full = path.empty() ? name : path + "." + name;
      bool is_known = false;
      for (const auto& kn : known) is_known = is_known || kn == name;
      if (!is_known) {
        std::string list;
        for (const auto& kn : known) list += (list.empty() ? "" : ", ") + kn;
        fail(k, full, "unknown key (known: " + list + ")");
      }
      if (!seen.insert(name).second) fail(k, full, "key given twice");
      out.emplace_back(name, it->second);
    }
    return out;
  }

  std::string string_value(const YAML::Node& n, const std::string& key, bool required) const {
    if (n.IsNull()) {
      if (required) fail(n, key, "expected a value, got nothing");
      return "";
    }
    if (!n.IsScalar()) fail(n, key, "expected a string, got " + kind(n));
    std::string v = n.Scalar();
    if (required && trim(v).empty()) fail(n, key, "expected a value, got an empty string");
    // YAML's "\0" makes a NUL byte, which ends the value for every C call it reaches (open, connect, exec): a path
    // "/etc/haproxy/haproxy.cfg\0" would pass as different from "/etc/haproxy/haproxy.cfg" yet be the same file.
    if (v.find('\0') != std::string::npos) fail(n, key, "a value cannot hold a NUL byte (\\0), got " + kind(n));
    return v;
  }

  std::chrono::milliseconds duration_value(const YAML::Node& n, const std::string& key) const {
    long long ms = n.IsScalar() ? parse_duration_ms(n.Scalar()) : -1;
    if (ms < 0) fail(n, key, "expected a duration like 5s, 500ms, 2m or 1h, got " + kind(n));
    // At most a year: every duration is added to a clock that counts nanoseconds in 64 bits (292 years from 1970),
    // or multiplied by a few; a longer one would overflow there, and no interval or timeout needs one.
    constexpr long long kMaxMs = 366LL * 24 * 3'600'000;
    if (ms > kMaxMs) fail(n, key, "expected a duration of at most a year (8784h), got '" + n.Scalar() + "'");
    return std::chrono::milliseconds(ms);
  }

  int port_value(const YAML::Node& n, const std::string& key) const {
    int port = 0;
    bool good = false;
    if (n.IsScalar()) {
      std::string_view s = trim(n.Scalar());
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
      good = ec == std::errc() && p == s.data() + s.size() && port >= 1 && port <= 65535;
    }
    if (!good) fail(n, key, "expected a port number 1-65535, got " + kind(n));
    return port;
  }

  double share_value(const YAML::Node& n, const std::string& key) const {
    const char* expected = "expected a share of servers: a number from 0 to 1 or a percentage like '50%', got ";
    if (!n.IsScalar()) fail(n, key, expected + kind(n));
    std::string_view s = trim(n.Scalar());
    bool percent = !s.empty() && s.back() == '%';
    if (percent) s = trim(s.substr(0, s.size() - 1));
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) fail(n, key, expected + kind(n));
    if (percent) v /= 100.0;
    if (!(v >= 0.0 && v <= 1.0)) fail(n, key, std::string(expected) + kind(n) + " (out of range)");
    return v;
  }

  // Relative paths mean "next to the YAML file", so a config directory can be moved as a whole.
  std::string resolve(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    fs::path base = fs::path(file_).parent_path();
    std::error_code ec;
    fs::path abs = fs::absolute(base.empty() ? fs::path(".") : base, ec);
    if (ec) abs = base;
    return (abs / p).lexically_normal().string();
  }

  Config parse(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
      throw ConfigException{file_ + ":" + std::to_string(line) + ": YAML syntax error: " + e.msg};
    }
    if (!root.IsDefined() || root.IsNull()) throw ConfigException{file_ + ":1: the configuration is empty"};

    Config c;
    c.source = file_;
    bool have_haproxy = false, have_backends = false;
    for (const auto& [key, v] : entries(root, "", {"interval", "haproxy", "backends", "max_remove_share",
                                                   "state_file", "listen", "log_format", "events",
                                                   "cloudwatch", "cluster"})) {
      if (key == "interval") {
        c.interval = duration_value(v, key);
        if (c.interval < std::chrono::milliseconds(100)) fail(v, key, "must be at least 100ms, got " + kind(v));
      } else if (key == "haproxy") {
        have_haproxy = true;
        c.haproxy = parse_haproxy(v);
      } else if (key == "backends") {
        have_backends = true;
        c.backends = parse_backends(v);
      } else if (key == "max_remove_share") {
        c.max_remove_fraction = share_value(v, key);
      } else if (key == "state_file") {
        c.state_file = resolve(string_value(v, key, false));
      } else if (key == "listen") {
        c.listen = string_value(v, key, true);
        check_listen(v, key, c.listen);
      } else if (key == "log_format") {
        c.log_format = string_value(v, key, true);
        if (c.log_format != "text" && c.log_format != "json")
          fail(v, key, "expected 'text' or 'json', got " + kind(v));
      } else if (key == "events") {
        for (const auto& [ek, ev] : entries(v, "events", {"queue_url"})) {
          c.events_queue_url = string_value(ev, "events." + ek, true);
          if (!c.events_queue_url.starts_with("https://") && !c.events_queue_url.starts_with("http://"))
            fail(ev, "events." + ek,
                 "expected the SQS queue's URL, like https://sqs.us-east-1.amazonaws.com/123456789012/NAME, got " +
                     kind(ev));
        }
        if (c.events_queue_url.empty()) fail(v, "events", "required key missing: queue_url");
      } else if (key == "cloudwatch") {
        c.cloudwatch = parse_cloudwatch(v);
      } else if (key == "cluster") {
        c.cluster = parse_cluster(v);
      }
    }
    if (!have_haproxy) fail(root, "haproxy", "required key missing (template, config, runtime_socket)");
    if (!have_backends) fail(root, "backends", "required key missing (at least one managed backend)");
    return c;
  }

  // The node id becomes a tag key, "haproxy-asg:drained:" + id: EC2 allows 127 characters in a key (letters, digits,
  // spaces and + - = . _ : / @), so an id of at most 107 of them without spaces (an instance id has 19).
  ClusterSettings parse_cluster(const YAML::Node& map) {
    ClusterSettings cl;
    for (const auto& [key, v] : entries(map, "cluster", {"group", "node_id", "peers"})) {
      std::string full = "cluster." + key;
      if (key == "group") {
        cl.group = string_value(v, full, true);
        if (cl.group.size() > 255 || !core::is_one_line(cl.group))
          fail(v, full, "a group name is 1-255 characters without control characters (newline, tab...), got " +
                            kind(v));
      } else if (key == "peers") {
        for (const auto& [pk, pv] : entries(v, full, {"section", "port"})) {
          std::string pfull = full + "." + pk;
          if (pk == "section") {
            cl.peers_section = string_value(pv, pfull, true);
            // HAProxy's rule for section names; the name is also written into a comment of haproxy.cfg.
            if (!std::all_of(cl.peers_section.begin(), cl.peers_section.end(), is_haproxy_name_char))
              fail(pv, pfull,
                   "expected the name of a peers section of the template (letters, digits, '-', '_', '.' or ':', "
                   "HAProxy's rule), got " +
                       kind(pv));
          } else {
            cl.peers_port = port_value(pv, pfull);
          }
        }
        if (cl.peers_section.empty())
          fail(v, full, "required key missing: section (a peers section of the template)");
      } else {
        cl.node_id = string_value(v, full, true);
        const auto& id = cl.node_id;
        // (Not strchr: it finds a NUL byte, YAML's "\0", as the string's terminator.)
        bool allowed = std::all_of(id.begin(), id.end(), [](unsigned char ch) {
          return std::isalnum(ch) || std::string_view("+-=._:/@").find(static_cast<char>(ch)) != std::string_view::npos;
        });
        if (id.size() > 107 || !allowed)
          fail(v, full, "expected this node's instance id (at most 107 letters, digits or + - = . _ : / @), got " +
                            kind(v));
      }
    }
    if (cl.group.empty()) fail(map, "cluster", "required key missing: group (the load balancers' own group)");
    return cl;
  }

  // PutMetricData's rules (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html):
  // a namespace of 1-255 ASCII characters not starting with "AWS/" (AWS refuses it); a period of whole seconds.
  CloudWatchSettings parse_cloudwatch(const YAML::Node& map) {
    CloudWatchSettings cw;
    cw.enabled = true;
    if (map.IsNull()) return cw;  // `cloudwatch:` alone: the defaults
    for (const auto& [key, v] : entries(map, "cloudwatch", {"namespace", "period"})) {
      std::string full = "cloudwatch." + key;
      if (key == "namespace") {
        cw.metric_namespace = string_value(v, full, true);
        const auto& ns = cw.metric_namespace;
        bool ascii = std::all_of(ns.begin(), ns.end(), [](unsigned char ch) { return ch >= 0x20 && ch < 0x7f; });
        if (ns.size() > 255 || !ascii || ns.starts_with("AWS/") || ns.starts_with(":"))
          fail(v, full, "expected 1 to 255 printable ASCII characters, not starting with 'AWS/' or ':', got " +
                            kind(v));
      } else if (key == "period") {
        // CloudWatch's periods: 1, 5, 10, 30 s (high resolution) or a multiple of 60 s; any other would split
        // unevenly over the one-minute periods a scaling policy reads.
        cw.period = duration_value(v, full);
        auto secs = cw.period.count() / 1000;
        bool fits = cw.period.count() % 1000 == 0 &&
                    (secs == 1 || secs == 5 || secs == 10 || secs == 30 || (secs > 0 && secs % 60 == 0));
        if (!fits || cw.period > std::chrono::hours(1))
          fail(v, full, "expected 1s, 5s, 10s, 30s or a multiple of 60s up to 1h (CloudWatch's periods), got " +
                            kind(v));
      }
    }
    return cw;
  }

  void check_listen(const YAML::Node& v, const std::string& key, const std::string& s) const {
    size_t colon = s.rfind(':');
    int port = 0;
    bool good = colon != std::string::npos && colon > 0;
    if (good) {
      const char* b = s.data() + colon + 1;
      const char* e = s.data() + s.size();
      auto [p, ec] = std::from_chars(b, e, port);
      good = ec == std::errc() && p == e && port >= 0 && port <= 65535;  // 0: any free port (its start line says which)
    }
    if (!good) fail(v, key, "expected HOST:PORT like 127.0.0.1:9717, got " + kind(v));
  }

  HaproxySettings parse_haproxy(const YAML::Node& map) {
    HaproxySettings h;
    bool have_template = false, have_config = false, have_runtime = false;
    for (const auto& [key, v] : entries(map, "haproxy",
                                        {"template", "config", "runtime_socket", "master_socket", "binary"})) {
      std::string full = "haproxy." + key;
      if (key == "template") {
        have_template = true;
        h.template_path = resolve(string_value(v, full, true));
      } else if (key == "config") {
        have_config = true;
        h.config_path = resolve(string_value(v, full, true));
      } else if (key == "runtime_socket") {
        have_runtime = true;
        h.runtime_socket = resolve(string_value(v, full, true));
      } else if (key == "master_socket") {
        h.master_socket = resolve(string_value(v, full, false));
      } else if (key == "binary") {
        h.binary = string_value(v, full, true);
        // A bare name ("haproxy") is looked up in PATH when run; only a path with a slash is a file path.
        if (h.binary.find('/') != std::string::npos) h.binary = resolve(h.binary);
      }
    }
    if (!have_template) fail(map, "haproxy.template", "required key missing (the haproxy.cfg template)");
    if (!have_config) fail(map, "haproxy.config", "required key missing (the haproxy.cfg HAProxy runs with)");
    if (!have_runtime) fail(map, "haproxy.runtime_socket", "required key missing (HAProxy's stats socket)");
    // The rendered file written over its own template would grow by one copy of the servers every cycle (compared
    // as paths: "/etc/haproxy/./haproxy.cfg" and "/etc/haproxy//haproxy.cfg" are one file).
    if (fs::path(h.template_path).lexically_normal() == fs::path(h.config_path).lexically_normal())
      fail(map, "haproxy.config", "must differ from haproxy.template ('" + h.config_path + "')");
    return h;
  }

  std::vector<BackendConfig> parse_backends(const YAML::Node& seq) {
    if (!seq.IsSequence()) fail(seq, "backends", "expected a list of backends, got " + kind(seq));
    if (seq.size() == 0) fail(seq, "backends", "at least one backend is required");
    std::vector<BackendConfig> out;
    std::set<std::string> names;
    for (size_t i = 0; i < seq.size(); ++i) {
      const YAML::Node item = seq[i];
      std::string path = "backends[" + std::to_string(i) + "]";
      BackendConfig b;
      bool have_backend = false, have_group = false, have_port = false;
      YAML::Node launch_hook_node;  // where lifecycle_hooks.launching is, for the error
      bool have_launch_hook = false;
      for (const auto& [key, v] : entries(item, path, {"backend", "group", "port", "server_options", "drain_timeout",
                                                       "address_family", "lifecycle_hooks", "launch_timeout",
                                                       "health_feedback"})) {
        std::string full = path + "." + key;
        if (key == "backend") {
          have_backend = true;
          b.backend = string_value(v, full, true);
          // HAProxy's own rule for proxy names (letters, digits, '-', '_', '.', ':'); it is also a word of runtime
          // commands ("add server BACKEND/NAME"), where a '/', ';' or newline would change their meaning.
          if (!std::all_of(b.backend.begin(), b.backend.end(), is_haproxy_name_char))
            fail(v, full, "a backend name is letters, digits, '-', '_', '.' or ':' (HAProxy's rule), got " + kind(v));
          if (!names.insert(b.backend).second) fail(v, full, "backend '" + b.backend + "' is managed twice");
        } else if (key == "group") {
          have_group = true;
          b.group = string_value(v, full, true);
          // Auto Scaling allows spaces (kept), and even "\r\n\t", in a group name; the name is written in
          // haproxy.cfg's marker comment, where a control character would end the line and start a directive.
          if (b.group.size() > 255 || !core::is_one_line(b.group))
            fail(v, full, "a group name is 1-255 characters without control characters (newline, tab...), got " +
                              kind(v));
        } else if (key == "port") {
          have_port = true;
          b.port = port_value(v, full);
        } else if (key == "server_options") {
          b.server_options = std::string(trim(string_value(v, full, false)));
          // Written in haproxy.cfg's server lines and sent in "add server" commands: a control character or '#'
          // would cut the line, a ';' would start a second runtime command.
          if (!core::is_one_line(b.server_options) || b.server_options.find_first_of("#;") != std::string::npos)
            fail(v, full, "server options hold no control character (newline, tab...), '#' or ';', got " + kind(v));
          // Each server's `id` is haproxy-asg's (core/server_id.h: the same on every load balancer); a second one
          // would make HAProxy refuse the line.
          for (auto w : split_ws(b.server_options))
            if (w == "id")
              fail(v, full, "must not set 'id': haproxy-asg gives each server a stable id derived from its instance id");
        } else if (key == "drain_timeout") {
          b.drain_timeout = duration_value(v, full);
        } else if (key == "address_family") {
          b.address_family = string_value(v, full, true);
          if (b.address_family != "ipv4" && b.address_family != "ipv6")
            fail(v, full, "expected 'ipv4' or 'ipv6', got " + kind(v));
        } else if (key == "lifecycle_hooks") {
          for (const auto& [hk, hv] : entries(v, full, {"terminating", "launching"})) {
            std::string name = string_value(hv, full + "." + hk, true);
            // AWS: 1-255 characters of [A-Za-z0-9\-_/]; checked here so that a typo fails at start, not at the
            // first completion.
            if (name.size() > 255 || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                            "0123456789-_/") != std::string::npos)
              fail(hv, full + "." + hk, "a lifecycle hook name is 1-255 of A-Z a-z 0-9 - _ /, got " + kind(hv));
            (hk == "terminating" ? b.hook_terminating : b.hook_launching) = name;
            if (hk == "launching") {
              launch_hook_node = hv;
              have_launch_hook = true;
            }
          }
        } else if (key == "health_feedback") {
          b.health_feedback = true;
          for (const auto& [hk, hv] : entries(v, full, {"down_for", "max_share"})) {
            if (hk == "down_for") {
              b.down_for = duration_value(hv, full + ".down_for");
              if (b.down_for < std::chrono::seconds(1))
                fail(hv, full + ".down_for", "must be at least 1s, got " + kind(hv));
            } else {
              b.feedback_max_share = share_value(hv, full + ".max_share");
            }
          }
        } else if (key == "launch_timeout") {
          b.launch_timeout = duration_value(v, full);
          if (b.launch_timeout < std::chrono::seconds(1)) fail(v, full, "must be at least 1s, got " + kind(v));
        }
      }
      // The launch hook waits for a passed health check: without `check` none ever runs.
      if (have_launch_hook) {
        bool has_check = false;
        for (auto w : split_ws(b.server_options)) has_check = has_check || w == "check";
        if (!has_check)
          fail(launch_hook_node, path + ".lifecycle_hooks.launching",
               "needs health checks: add 'check' to " + path + ".server_options (a new instance gets traffic "
               "after its first passed check)");
      }
      if (!have_backend) fail(item, path + ".backend", "required key missing (a backend section of the template)");
      if (!have_group) fail(item, path + ".group", "required key missing (the Auto Scaling group)");
      if (!have_port) fail(item, path + ".port", "required key missing (the instances' port, 1-65535)");
      out.push_back(std::move(b));
    }
    return out;
  }

 private:
  std::string file_;
};

}  // namespace

std::vector<std::string> Config::groups() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& b : backends)
    if (seen.insert(b.group).second) out.push_back(b.group);
  if (cluster.enabled() && seen.insert(cluster.group).second) out.push_back(cluster.group);
  return out;
}

Result<Config> parse_config(std::string_view yaml_text, const std::string& filename) {
  try {
    return Parser(filename).parse(yaml_text);
  } catch (const ConfigException& e) {
    return make_error("ConfigError", e.message);
  } catch (const YAML::Exception& e) {
    // Conversions inside yaml-cpp should not throw with the checks above; if one does, still name file and line.
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    return make_error("ConfigError", filename + ":" + std::to_string(line) + ": " + e.msg);
  }
}

Result<Config> load_config(const std::string& path) {
  std::error_code dir_ec;
  if (fs::is_directory(path, dir_ec))
    return make_error("ConfigError", path + ": cannot read the configuration: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return make_error(err == ENOENT ? "NotFound" : "ConfigError",
                      path + ": cannot read the configuration: " + std::strerror(err));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error("ConfigError", path + ": cannot read the configuration: read error");
  return parse_config(ss.str(), path);
}

}  // namespace hasg::config
