#include "doctor/checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "util/strings.h"

namespace hasg::doctor {

namespace {

std::string cat(const std::vector<std::string>& parts, const char* sep = "; ") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

const char* kAdminSocketLine = "stats socket {} mode 660 level admin expose-fd listeners";

// Server keywords HAProxy 2.6 refuses in `add server` ("'cookie' option is not accepted for dynamic server"):
// each seen refused on 2.6.12. The keywords it accepts are listed in management.txt, "add server".
constexpr std::array<std::string_view, 11> kRefusedByAddServer = {
    "cookie",      "init-addr",   "resolvers", "resolve-prefer", "resolve-net", "resolve-opts",
    "redir",       "namespace",   "log-proto", "max-reuse",      "tcp-ut"};
constexpr std::string_view kSocks4 = "socks4";

// Whether `add server` may add to a backend with this algorithm (2.6.12: static-rr and the map-based hashes are
// refused with "Backend must use a dynamic load balancing to support dynamic servers."; consistent hashing is
// dynamic).
bool is_dynamic(const ProxyConfig::Backend& b) {
  std::string algo = b.balance.substr(0, b.balance.find('('));
  if (algo == "static-rr") return false;
  static const std::array<std::string_view, 6> hashed = {"source", "uri", "url_param", "hdr", "rdp-cookie", "hash"};
  bool is_hash = std::find(hashed.begin(), hashed.end(), algo) != hashed.end();
  return !is_hash || b.hash_type == "consistent";
}

}  // namespace

bool is_denial(const std::string& code) {
  return code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation";
}

bool is_missing_queue(const std::string& code) {
  return code == "AWS.SimpleQueueService.NonExistentQueue" || code == "QueueDoesNotExist";
}

std::optional<std::pair<int, int>> major_minor(std::string_view version) {
  for (size_t i = 0; i < version.size(); ++i) {
    if (version[i] < '0' || version[i] > '9' || (i > 0 && version[i - 1] >= '0' && version[i - 1] <= '9')) continue;
    int major = 0, minor = 0, n = 0;
    std::string rest(version.substr(i, 16));
    if (std::sscanf(rest.c_str(), "%d.%d%n", &major, &minor, &n) == 2 && n > 2) return std::pair{major, minor};
  }
  return std::nullopt;
}

CheckResult check_version(const HaproxyBinary& binary, const RuntimeSocket& runtime) {
  const std::string id = "haproxy.version";
  const std::string install = "apt-get install haproxy (Debian 12 ships 2.6), or set haproxy.binary in the YAML";
  if (binary.error)
    return fail(id, "cannot run " + binary.path + " -v: " + binary.error->message, install);
  auto mm = major_minor(binary.version);
  if (!mm) return fail(id, binary.path + " -v printed no version: " + binary.version, install);
  if (*mm < std::pair{kMinMajor, kMinMinor})
    return fail(id,
                fmt::format("{} is HAProxy {}; haproxy-asg needs {}.{} or later (it adds servers with `add server` "
                            "and their checks, without experimental-mode)",
                            binary.path, binary.version, kMinMajor, kMinMinor),
                "install HAProxy 2.6 or later (Debian 12: apt-get install haproxy)");
  if (runtime.answered() && !runtime.version.empty() && runtime.version != binary.version)
    return warn(id,
                "the running HAProxy is " + runtime.version + " but " + binary.path + " is " + binary.version +
                    ": the next restart changes version",
                "systemctl restart haproxy (after checking the new version's release notes)");
  return pass(id, fmt::format("HAProxy {} ({}); haproxy-asg needs {}.{} or later", binary.version, binary.path,
                              kMinMajor, kMinMinor));
}

CheckResult check_backend(const config::BackendConfig& b, const ProxyConfig& proxies) {
  const std::string id = "haproxy.backend " + b.backend;
  if (proxies.error) return skip(id, "cannot read " + proxies.path + ": " + proxies.error->message);
  auto it = std::find_if(proxies.backends.begin(), proxies.backends.end(),
                         [&](const auto& p) { return p.name == b.backend; });
  if (it == proxies.backends.end())
    return fail(id, proxies.path + " has no backend " + b.backend,
                "add a `backend " + b.backend + "` section to " + proxies.path + " (or fix backends[].backend)");
  std::vector<std::string> problems, fixes;
  if (!is_dynamic(*it)) {
    problems.push_back("balance " + it->balance + (it->balance == "static-rr" ? "" : " with hash-type " + it->hash_type) +
                       ": HAProxy refuses `add server` (\"Backend must use a dynamic load balancing to support "
                       "dynamic servers.\")");
    fixes.push_back(it->balance == "static-rr" ? "use `balance roundrobin` in backend " + b.backend
                                               : "add `hash-type consistent` to backend " + b.backend);
  }
  auto words = split_ws(b.server_options);
  for (auto w : words) {
    bool refused = w == kSocks4 || std::find(kRefusedByAddServer.begin(), kRefusedByAddServer.end(), w) !=
                                       kRefusedByAddServer.end();
    if (!refused) continue;
    problems.push_back("server_options has `" + std::string(w) + "`, which `add server` refuses (\"'" +
                       std::string(w) + "' option is not accepted for dynamic server\")");
    fixes.push_back("remove `" + std::string(w) + "` (and its value) from server_options of backend " + b.backend);
  }
  if (!problems.empty()) return fail(id, cat(problems), cat(fixes));
  return pass(id, "balance " + it->balance + " takes servers added at runtime; server_options are all accepted by "
                  "`add server`");
}

CheckResult check_runtime_socket(const RuntimeSocket& rt) {
  const std::string id = "haproxy.runtime_socket";
  if (rt.path.empty()) return skip(id, "no configuration: no runtime socket to check");
  const std::string line = fmt::format(fmt::runtime(kAdminSocketLine), rt.path);
  if (rt.error) {
    if (rt.error->code == "HaproxyNotRunning")
      return fail(id, "nothing answers on " + rt.path + ": HAProxy is not running, or has no stats socket there",
                  "in haproxy.cfg's global section: `" + line + "`, then systemctl restart haproxy");
    return fail(id, rt.path + ": " + rt.error->message,
                "let haproxy-asg's user open it: `" + line + " group haproxy` and run haproxy-asg in group haproxy");
  }
  if (rt.level != "admin")
    return fail(id, rt.path + " answers at level " + (rt.level.empty() ? "?" : rt.level) +
                        "; haproxy-asg needs admin (add server, del server)",
                "in haproxy.cfg's global section: `" + line + "`, then systemctl reload haproxy");
  return pass(id, rt.path + " answers at level admin (HAProxy " + rt.version + ")");
}

CheckResult check_master_socket(const MasterSocket& m) {
  const std::string id = "haproxy.master_socket";
  if (m.path.empty())
    return warn(id, "no master_socket configured: a structural change (template edited, backend added) cannot be "
                    "reloaded",
                "in the YAML under haproxy: `master_socket: /run/haproxy-master.sock` (Debian's haproxy.service "
                "starts HAProxy with -S /run/haproxy-master.sock)");
  if (m.error) {
    if (m.error->code == "HaproxyNotRunning")
      return fail(id, "nothing answers on " + m.path + ": HAProxy is not running in master-worker mode with -S " +
                          m.path,
                  "start HAProxy with -W -S " + m.path + " (Debian's haproxy.service does: systemctl start haproxy)");
    return fail(id, m.path + ": " + m.error->message, "let haproxy-asg's user open " + m.path);
  }
  return pass(id, fmt::format("master-worker mode: master pid {}, {} worker{}, {} reload{} so far", m.master_pid,
                              m.workers, m.workers == 1 ? "" : "s", m.reloads, m.reloads == 1 ? "" : "s"));
}

CheckResult check_fd_limits(const FdLimits& l, const RuntimeSocket& rt, const ProxyConfig& proxies) {
  const std::string id = "limits.nofile";
  // What HAProxy needs: the running process reports it (Ulimit-n); the file's maxconn needs at least 2 per
  // connection (2.6.12: maxconn 20000 -> "Cannot raise FD limit to 40029").
  long need = 0;
  std::string why;
  if (rt.answered() && rt.ulimit_n > 0) {
    need = rt.ulimit_n;
    why = fmt::format("the running HAProxy needs {} descriptors (Ulimit-n, for maxconn {})", rt.ulimit_n, rt.maxconn);
  }
  if (proxies.global_ulimit_n > need) {
    need = proxies.global_ulimit_n;
    why = fmt::format("{} sets ulimit-n {}", proxies.path, proxies.global_ulimit_n);
  } else if (proxies.global_ulimit_n == 0 && 2 * proxies.global_maxconn > need) {
    need = 2 * proxies.global_maxconn;
    why = fmt::format("maxconn {} in {} needs at least {} descriptors", proxies.global_maxconn, proxies.path, need);
  }
  std::vector<std::string> seen;
  if (l.unit_limit) seen.push_back(fmt::format("{} LimitNOFILE {}", l.unit, *l.unit_limit));
  if (l.process_limit) seen.push_back(fmt::format("the running master's hard limit {}", *l.process_limit));
  if (l.nr_open) seen.push_back(fmt::format("fs.nr_open {}", *l.nr_open));
  if (l.file_max) seen.push_back(fmt::format("fs.file-max {}", *l.file_max));
  // The limit the next start gets: the unit's when systemd manages HAProxy, else what the running master has.
  std::optional<long> hard = l.unit_limit ? l.unit_limit : l.process_limit;
  std::string hard_name = l.unit_limit ? l.unit + " LimitNOFILE" : "the running master's hard limit";

  // Every sysctl fix appends (>>) to one file, so following several of them keeps them all.
  const std::string sysctl_fix =
      "sysctl -w fs.nr_open={0} && echo 'fs.nr_open = {0}' >> /etc/sysctl.d/90-haproxy.conf";
  if (l.unit_limit && l.nr_open && *l.unit_limit > *l.nr_open)
    return fail(id, fmt::format("{} LimitNOFILE {} exceeds fs.nr_open {}: the kernel refuses it", l.unit,
                                *l.unit_limit, *l.nr_open),
                fmt::format(fmt::runtime(sysctl_fix), *l.unit_limit));
  if (need == 0)
    return pass(id, "maxconn is not set: HAProxy derives it from the descriptor limit; " + cat(seen, ", "));
  if (!hard) return skip(id, why + "; the limit HAProxy starts under is unknown (no systemd unit, HAProxy not running)");
  if (need > *hard) {
    long want = (need + 1023) / 1024 * 1024;
    std::string fix = fmt::format("systemctl edit {} and add `[Service]` `LimitNOFILE={}`, then systemctl restart {}",
                                  l.unit.empty() ? "haproxy.service" : l.unit, want,
                                  l.unit.empty() ? "haproxy" : l.unit);
    if (l.nr_open && want > *l.nr_open) fix = fmt::format(fmt::runtime(sysctl_fix), want) + "; then " + fix;
    return fail(id,
                fmt::format("{}, but {} is {}: HAProxy refuses to start (\"Cannot raise FD limit to {}, limit is {}\")",
                            why, hard_name, *hard, need, *hard),
                fix + " (or lower maxconn)");
  }
  if (l.file_max && need > *l.file_max)
    return warn(id, fmt::format("{}, more than fs.file-max {} for the whole system", why, *l.file_max),
                fmt::format("sysctl -w fs.file-max={0} && echo 'fs.file-max = {0}' >> /etc/sysctl.d/90-haproxy.conf",
                            need * 2));
  return pass(id, why + "; " + cat(seen, ", "));
}

namespace {
// The global maxconn HAProxy uses: the running one's, else the file's (0: unknown).
long effective_maxconn(const RuntimeSocket& rt, const ProxyConfig& proxies) {
  if (rt.answered() && rt.maxconn > 0) return rt.maxconn;
  return proxies.global_maxconn;
}
}  // namespace

CheckResult check_backlog(const NetLimits& net, const RuntimeSocket& rt, const ProxyConfig& proxies) {
  const std::string id = "net.somaxconn";
  if (!net.somaxconn) return skip(id, "cannot read net.core.somaxconn");
  if (proxies.error) return skip(id, "cannot read " + proxies.path + ": " + proxies.error->message);
  long global = effective_maxconn(rt, proxies);
  long largest = 0;
  std::vector<std::string> over;
  for (const auto& l : proxies.listeners) {
    long backlog = l.backlog > 0 ? l.backlog : global;
    std::string from = l.backlog > 0 ? l.from : "global maxconn";
    largest = std::max(largest, backlog);
    if (backlog > *net.somaxconn) over.push_back(fmt::format("{} backlog {} ({})", l.proxy, backlog, from));
  }
  if (proxies.listeners.empty()) return skip(id, proxies.path + " has no frontend or listen section");
  if (!over.empty())
    return warn(id,
                fmt::format("net.core.somaxconn is {}, below {}: the kernel silently caps the accept queue at {}, and "
                            "connections beyond it are dropped in a burst",
                            *net.somaxconn, cat(over, ", "), *net.somaxconn),
                fmt::format("sysctl -w net.core.somaxconn={0} && echo 'net.core.somaxconn = {0}' >> "
                            "/etc/sysctl.d/90-haproxy.conf",
                            largest));
  if (largest == 0) return skip(id, "the listeners' backlog follows maxconn, which is not known here");
  return pass(id, fmt::format("net.core.somaxconn {} covers every listener's backlog (largest {})", *net.somaxconn,
                              largest));
}

CheckResult check_ephemeral_ports(const NetLimits& net, const RuntimeSocket& rt, const ProxyConfig& proxies) {
  const std::string id = "net.ephemeral_ports";
  if (!net.ephemeral_ports) return skip(id, "cannot read net.ipv4.ip_local_port_range");
  auto [lo, hi] = *net.ephemeral_ports;
  long ports = hi - lo + 1;
  long maxconn = effective_maxconn(rt, proxies);
  if (maxconn == 0) return skip(id, fmt::format("{} ephemeral ports ({}-{}); maxconn not known here", ports, lo, hi));
  if (ports < maxconn)
    return warn(id,
                fmt::format("{} ephemeral ports ({}-{}) for maxconn {}: connections to one server address cannot "
                            "exceed the range (connect() fails with EADDRNOTAVAIL)",
                            ports, lo, hi, maxconn),
                "sysctl -w net.ipv4.ip_local_port_range='1024 65535' && echo 'net.ipv4.ip_local_port_range = 1024 "
                "65535' >> /etc/sysctl.d/90-haproxy.conf (keep the ports HAProxy listens on out of it with "
                "net.ipv4.ip_local_reserved_ports)");
  return pass(id, fmt::format("{} ephemeral ports ({}-{}) for maxconn {}", ports, lo, hi, maxconn));
}

CheckResult check_region(const AwsSetup& s) {
  const std::string id = "aws.region";
  if (s.region_error)
    return fail(id, s.region_error->message,
                "set AWS_REGION in haproxy-asg's environment (systemctl edit haproxy-asg: "
                "`[Service]` `Environment=AWS_REGION=eu-west-1`), or run it on EC2 with IMDS enabled");
  return pass(id, s.region);
}

CheckResult check_credentials(const AwsSetup& s) {
  const std::string id = "aws.credentials";
  if (s.credentials_error)
    return fail(id, s.credentials_error->message,
                "attach an instance profile whose role has packaging/iam-policy.json (aws ec2 "
                "associate-iam-instance-profile --instance-id ID --iam-instance-profile Name=PROFILE), or set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in haproxy-asg's environment");
  if (s.region_error) return skip(id, "no region, so no AWS client to find credentials with");
  return pass(id, "found in " + s.credentials_source);
}

CheckResult check_imds(const ImdsFacts& m, const AwsSetup& s) {
  const std::string id = "aws.imds";
  if (m.disabled) return skip(id, "IMDS is disabled (AWS_EC2_METADATA_DISABLED=true)");
  if (m.error) {
    bool needed = s.credentials_source.empty() || s.credentials_source.starts_with("imds") || !!s.region_error;
    if (!needed)
      return skip(id, "IMDSv2 at " + m.endpoint + " does not answer (" + m.error->message +
                          "): not needed, credentials come from " + s.credentials_source);
    return fail(id, "IMDSv2 at " + m.endpoint + " does not answer: " + m.error->message,
                "on EC2: aws ec2 modify-instance-metadata-options --instance-id INSTANCE --http-endpoint enabled "
                "--http-tokens required --http-put-response-hop-limit 2; elsewhere: set AWS_REGION and credentials");
  }
  std::string found = "IMDSv2 at " + m.endpoint + " answers (instance " + m.instance_id + ")";
  if (m.options_error)
    return warn(id, found + "; its metadata options cannot be read: " + m.options_error->message,
                "allow ec2:DescribeInstances (packaging/iam-policy.json)");
  if (!m.options) return pass(id, found);
  const auto& o = *m.options;
  found += fmt::format("; HttpTokens {}, hop limit {}", o.http_tokens, o.hop_limit);
  if (o.http_tokens != "required")
    return warn(id, found + ": IMDSv1 is still allowed, the path SSRF attacks steal instance credentials through",
                "aws ec2 modify-instance-metadata-options --instance-id " + m.instance_id + " --http-tokens required");
  if (o.hop_limit < 2)
    found += " (enough on the instance itself; haproxy-asg in a container behind a bridge would need 2: aws ec2 "
             "modify-instance-metadata-options --instance-id " + m.instance_id + " --http-put-response-hop-limit 2)";
  return pass(id, found);
}

CheckResult check_group(const GroupFacts& g) {
  const std::string id = "aws.group " + g.group;
  if (g.error) {
    if (is_denial(g.error->code)) return skip(id, "cannot describe it: access denied (see the permission check)");
    return fail(id, "cannot describe it: " + g.error->message, "see the error; then run haproxy-asg doctor again");
  }
  if (!g.exists)
    return fail(id, "no Auto Scaling group " + g.group + " in this region",
                "fix backends[].group in the YAML, or the region (AWS_REGION)");
  return pass(id, fmt::format("{} instance{}, desired {}", g.instances, g.instances == 1 ? "" : "s", g.desired));
}

std::vector<CheckResult> check_hooks(const config::BackendConfig& b, const GroupFacts& g) {
  const std::string id = "aws.hooks " + b.backend;
  if (g.error || !g.exists) return {skip(id, "the group " + g.group + " cannot be read (see aws.group)")};
  if (g.hooks_error) {
    if (is_denial(g.hooks_error->code))
      return {skip(id, "cannot read group " + g.group + "'s hooks: access denied (see the permission check)")};
    return {fail(id, "cannot read group " + g.group + "'s hooks: " + g.hooks_error->message,
                 "see the error; then run haproxy-asg doctor again")};
  }
  auto find = [&](const std::string& name) -> const aws::LifecycleHook* {
    for (const auto& h : g.hooks)
      if (h.name == name) return &h;
    return nullptr;
  };
  auto put = [&](const std::string& name, const std::string& transition, const std::string& extra) {
    return "aws autoscaling put-lifecycle-hook --auto-scaling-group-name " + g.group + " --lifecycle-hook-name " +
           name + " --lifecycle-transition " + transition + extra;
  };
  const std::string terminating = "autoscaling:EC2_INSTANCE_TERMINATING";
  const std::string launching = "autoscaling:EC2_INSTANCE_LAUNCHING";
  std::vector<CheckResult> out;

  if (b.hook_terminating.empty()) {
    std::string others;
    for (const auto& h : g.hooks)
      if (h.transition == terminating) others += (others.empty() ? "" : ", ") + h.name;
    out.push_back(warn(
        id,
        "group " + g.group + " has no termination hook for haproxy-asg" +
            (others.empty() ? "" : " (it has " + others + ", which haproxy-asg does not complete)") +
            ": on scale-in AWS terminates a leaving instance within seconds and the requests in flight on it are cut "
            "(measured: 68 to 165 of 3,500 with 0.5 s responses)",
        put("haproxy-asg-drain", terminating, " --heartbeat-timeout 120 --default-result CONTINUE") +
            "; then in the YAML under backend " + b.backend + ": `lifecycle_hooks: {terminating: haproxy-asg-drain}`"));
  } else if (const auto* h = find(b.hook_terminating); !h) {
    out.push_back(fail(id, "group " + g.group + " has no lifecycle hook " + b.hook_terminating,
                       put(b.hook_terminating, terminating, " --heartbeat-timeout 120 --default-result CONTINUE")));
  } else if (h->transition != terminating) {
    out.push_back(fail(id, "lifecycle hook " + h->name + " of group " + g.group + " is for " + h->transition +
                               ", not " + terminating,
                       "aws autoscaling delete-lifecycle-hook --auto-scaling-group-name " + g.group +
                           " --lifecycle-hook-name " + h->name + "; " +
                           put(h->name, terminating, " --heartbeat-timeout 120 --default-result CONTINUE")));
  } else if (h->global_timeout_s > 0 && b.drain_timeout > std::chrono::seconds(h->global_timeout_s)) {
    out.push_back(warn(id,
                       fmt::format("drain_timeout {} s is longer than hook {}'s global timeout {} s: the group "
                                   "terminates an instance still draining then",
                                   b.drain_timeout.count() / 1000, h->name, h->global_timeout_s),
                       fmt::format("lower drain_timeout of backend {} to {}s or less", b.backend,
                                   h->global_timeout_s)));
  } else {
    out.push_back(pass(id, fmt::format("termination hook {} (heartbeat {} s, global {} s, default {})", h->name,
                                       h->heartbeat_timeout_s, h->global_timeout_s, h->default_result)));
  }

  if (!b.hook_launching.empty()) {
    const std::string lid = "aws.launch_hook " + b.backend;
    const auto* h = find(b.hook_launching);
    if (!h)
      out.push_back(fail(lid, "group " + g.group + " has no lifecycle hook " + b.hook_launching,
                         put(b.hook_launching, launching, " --heartbeat-timeout 600 --default-result ABANDON")));
    else if (h->transition != launching)
      out.push_back(fail(lid, "lifecycle hook " + h->name + " of group " + g.group + " is for " + h->transition +
                                  ", not " + launching,
                         "aws autoscaling delete-lifecycle-hook --auto-scaling-group-name " + g.group +
                             " --lifecycle-hook-name " + h->name + "; " +
                             put(h->name, launching, " --heartbeat-timeout 600 --default-result ABANDON")));
    else
      out.push_back(pass(lid, fmt::format("launch hook {} (heartbeat {} s, default {})", h->name,
                                          h->heartbeat_timeout_s, h->default_result)));
  }
  return out;
}

CheckResult check_queue(const std::string& url, const Probe& receive) {
  const std::string id = "aws.events_queue";
  if (!receive.error) return pass(id, url + " exists and answers ReceiveMessage");
  const auto& e = *receive.error;
  if (is_missing_queue(e.code)) {
    std::string name = url.substr(url.rfind('/') + 1);
    return fail(id, url + " does not exist (" + e.code + ")",
                "aws sqs create-queue --queue-name " + name + " --attributes MessageRetentionPeriod=3600 (then route "
                "the group's events to it: README, \"Lifecycle hooks and events\"), or fix events.queue_url");
  }
  if (is_denial(e.code)) return skip(id, url + ": access denied, so whether it exists is unknown (see the permission check)");
  return fail(id, url + ": " + e.message, "see the error; then run haproxy-asg doctor again");
}

}  // namespace hasg::doctor
