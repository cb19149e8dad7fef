#include "sim/simulator.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "aws/sigv4.h"
#include "sim/instance_fleet.h"
#include "util/strings.h"

namespace hasg::sim {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
using Params = std::multimap<std::string, std::string>;

constexpr const char* kAsgNs = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
constexpr const char* kEc2Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

struct Instance {
  SimInstance view;
  uint64_t seq = 0;
  SteadyTime changed{};  // when the current timed state began
  std::optional<SteadyTime> in_service;  // when it first became InService
  bool member = true;    // still part of its group
};

struct Group {
  std::string name;
  int min_size = 0;
  int max_size = 0;
  int desired = 0;
  std::string created;
};

struct TempCredentials {
  std::string secret;
  std::string token;
  std::chrono::system_clock::time_point expires;
};

// One AWS answer: status, XML body.
struct Answer {
  int status = 200;
  std::string body;
};

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

// "Prefix.1", "Prefix.2", ... in index order (the Query protocol's list encoding).
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

}  // namespace

struct Simulator::Impl {
  SimOptions opt;
  httplib::Server server;
  std::thread server_thread;
  std::thread ticker;
  std::atomic<bool> stopping{false};
  int bound_port = 0;
  InstanceFleet fleet;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Group> groups;
  std::map<std::string, Instance> instances;  // every instance ever launched, terminated ones included
  uint64_t next_seq = 0;
  uint64_t id_prefix = 0;
  std::vector<Fault> faults;
  std::map<std::string, uint64_t> calls;
  std::map<std::string, SteadyTime> imds_tokens;
  std::map<std::string, TempCredentials> temp_credentials;
  std::mt19937_64 rng{std::random_device{}()};

  explicit Impl(SimOptions o) : opt(std::move(o)) {
    id_prefix = opt.seed ? opt.seed : rng();
  }

  // ---- instances ----------------------------------------------------------------------------------------------

  std::string address_for(uint64_t seq) const {
    // 250 addresses per /24, skipping .0, .1 (127.x.y.1 is often used by the machine) and .255.
    return "127." + std::to_string(opt.instance_net) + "." + std::to_string(seq / 250) + "." +
           std::to_string(seq % 250 + 2);
  }

  void start_server(Instance& inst) {
    if (opt.instance_port <= 0 || inst.view.server_running) return;
    auto st = fleet.start(inst.view.id, inst.view.address, opt.instance_port, opt.instance_delay_ms);
    if (!st) {
      std::fprintf(stderr, "simulator: %s\n", st.error().message.c_str());
      return;
    }
    inst.view.server_running = true;
  }

  void stop_server(Instance& inst) {
    if (!inst.view.server_running) return;
    fleet.kill(inst.view.id);
    inst.view.server_running = false;
  }

  void launch(Group& g) {
    Instance inst;
    inst.seq = next_seq++;
    char id[32];
    std::snprintf(id, sizeof id, "i-%05llx%012llx", static_cast<unsigned long long>(id_prefix & 0xfffff),
                  static_cast<unsigned long long>(inst.seq));
    inst.view.id = id;
    inst.view.group = g.name;
    inst.view.zone = opt.zones[inst.seq % opt.zones.size()];
    inst.view.address = address_for(inst.seq);
    inst.changed = std::chrono::steady_clock::now();
    if (opt.pending.count() == 0) {
      inst.view.lifecycle = "InService";
      inst.view.ec2_state = "running";
      inst.in_service = inst.changed;
    } else {
      inst.view.lifecycle = "Pending";
      inst.view.ec2_state = "pending";
    }
    start_server(inst);
    instances[inst.view.id] = std::move(inst);
  }

  void begin_termination(Instance& inst) {
    inst.changed = std::chrono::steady_clock::now();
    inst.view.lifecycle = "Terminating";
    if (opt.terminating.count() == 0) finish_termination(inst);
  }

  void finish_termination(Instance& inst) {
    inst.member = false;
    inst.view.lifecycle = "Terminated";
    inst.view.ec2_state = "terminated";
    stop_server(inst);
  }

  std::vector<Instance*> members_of(const std::string& group) {
    std::vector<Instance*> out;
    for (auto& [id, inst] : instances)
      if (inst.member && inst.view.group == group) out.push_back(&inst);
    return out;
  }

  // Brings the group to its desired capacity, like the Auto Scaling service does: launches what is missing,
  // terminates the newest instances first when there are too many (not AWS's default policy, which balances zones
  // and then prefers old launch templates; newest-first is simply predictable for tests).
  void reconcile(Group& g) {
    auto members = members_of(g.name);
    int active = 0;
    for (auto* m : members)
      if (!m->view.lifecycle.starts_with("Terminating")) ++active;
    for (; active < g.desired; ++active) launch(g);
    if (active > g.desired) {
      std::vector<Instance*> candidates;
      for (auto* m : members)
        if (!m->view.lifecycle.starts_with("Terminating")) candidates.push_back(m);
      std::sort(candidates.begin(), candidates.end(), [](auto* a, auto* b) { return a->seq > b->seq; });
      for (int i = 0; i < active - g.desired; ++i) begin_termination(*candidates[static_cast<size_t>(i)]);
    }
  }

  void tick() {
    std::lock_guard lock(mu);
    auto now = std::chrono::steady_clock::now();
    for (auto& [id, inst] : instances) {
      if (!inst.member) continue;
      if (inst.view.lifecycle == "Pending" && now - inst.changed >= opt.pending) {
        inst.view.lifecycle = "InService";
        inst.view.ec2_state = "running";
        inst.changed = now;
        if (!inst.in_service) inst.in_service = now;
      } else if (inst.view.lifecycle == "Terminating" && now - inst.changed >= opt.terminating) {
        finish_termination(inst);
      }
    }
  }

  // ---- faults and calls -----------------------------------------------------------------------------------------

  std::optional<Fault> take_fault(const std::string& action) {
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (it->action != "*" && it->action != action) continue;
      Fault f = *it;
      if (it->count > 0 && --it->count == 0) faults.erase(it);
      return f;
    }
    return std::nullopt;
  }

  // ---- XML answers ------------------------------------------------------------------------------------------------

  // Called from the server's pool threads outside `mu`, so its generator is per thread.
  static std::string request_id() {
    thread_local std::mt19937_64 local{std::random_device{}()};
    return random_hex(local, 8) + "-" + random_hex(local, 4) + "-" + random_hex(local, 4) + "-" +
           random_hex(local, 4) + "-" + random_hex(local, 12);
  }

  // Auto Scaling's error document (Query protocol).
  Answer asg_error(int status, const std::string& code, const std::string& message) {
    pugi::xml_document doc;
    auto root = doc.append_child("ErrorResponse");
    root.append_attribute("xmlns") = kAsgNs;
    auto err = root.append_child("Error");
    err.append_child("Type").text() = status >= 500 ? "Receiver" : "Sender";
    err.append_child("Code").text() = code.c_str();
    err.append_child("Message").text() = message.c_str();
    root.append_child("RequestId").text() = request_id().c_str();
    return {status, xml_string(doc)};
  }

  // EC2's error document.
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

  Answer error_for(const std::string& service, int status, const std::string& code, const std::string& message) {
    return service == "ec2" ? ec2_error(status, code, message) : asg_error(status, code, message);
  }

  Answer describe_auto_scaling_groups(const Params& p) {
    auto names = list_param(p, "AutoScalingGroupNames.member");
    int max_records = 50;
    if (auto mr = param(p, "MaxRecords"); !mr.empty()) {
      try {
        max_records = std::stoi(mr);
      } catch (...) {
        max_records = -1;
      }
      if (max_records < 1 || max_records > 100)
        return asg_error(400, "ValidationError",
                         "1 validation error detected: Value '" + mr +
                             "' at 'maxRecords' failed to satisfy constraint: Member must have value less than or "
                             "equal to 100");
    }
    size_t offset = 0;
    if (auto tok = param(p, "NextToken"); !tok.empty()) {
      if (!tok.starts_with("asg-") || !parse_offset(tok.substr(4), offset))
        return asg_error(400, "InvalidNextToken", "The token '" + tok + "' is invalid.");
    }
    std::vector<const Group*> selected;
    for (const auto& [name, g] : groups)
      if (names.empty() || std::find(names.begin(), names.end(), name) != names.end()) selected.push_back(&g);

    pugi::xml_document doc;
    auto root = doc.append_child("DescribeAutoScalingGroupsResponse");
    root.append_attribute("xmlns") = kAsgNs;
    auto result = root.append_child("DescribeAutoScalingGroupsResult");
    auto list = result.append_child("AutoScalingGroups");
    size_t end = std::min(selected.size(), offset + static_cast<size_t>(max_records));
    for (size_t i = offset; i < end; ++i) {
      const Group& g = *selected[i];
      auto m = list.append_child("member");
      m.append_child("AutoScalingGroupName").text() = g.name.c_str();
      m.append_child("AutoScalingGroupARN").text() =
          ("arn:aws:autoscaling:" + opt.region + ":123456789012:autoScalingGroup:" + random_hex(rng, 8) +
           ":autoScalingGroupName/" + g.name).c_str();
      m.append_child("MinSize").text() = g.min_size;
      m.append_child("MaxSize").text() = g.max_size;
      m.append_child("DesiredCapacity").text() = g.desired;
      m.append_child("DefaultCooldown").text() = 300;
      auto zones = m.append_child("AvailabilityZones");
      for (const auto& z : opt.zones) zones.append_child("member").text() = z.c_str();
      m.append_child("LoadBalancerNames");
      m.append_child("TargetGroupARNs");
      m.append_child("HealthCheckType").text() = "EC2";
      m.append_child("HealthCheckGracePeriod").text() = 300;
      auto insts = m.append_child("Instances");
      for (const auto& [id, inst] : instances) {
        if (!inst.member || inst.view.group != g.name) continue;
        auto im = insts.append_child("member");
        im.append_child("InstanceId").text() = id.c_str();
        im.append_child("InstanceType").text() = "t3.micro";
        im.append_child("AvailabilityZone").text() = inst.view.zone.c_str();
        im.append_child("LifecycleState").text() = inst.view.lifecycle.c_str();
        im.append_child("HealthStatus").text() = inst.view.health.c_str();
        im.append_child("ProtectedFromScaleIn").text() = "false";
      }
      m.append_child("CreatedTime").text() = g.created.c_str();
      m.append_child("SuspendedProcesses");
      m.append_child("EnabledMetrics");
      auto tp = m.append_child("TerminationPolicies");
      tp.append_child("member").text() = "Default";
      m.append_child("NewInstancesProtectedFromScaleIn").text() = "false";
    }
    if (end < selected.size()) result.append_child("NextToken").text() = ("asg-" + std::to_string(end)).c_str();
    root.append_child("ResponseMetadata").append_child("RequestId").text() = request_id().c_str();
    return {200, xml_string(doc)};
  }

  Answer describe_instances(const Params& p) {
    auto ids = list_param(p, "InstanceId");
    std::set<std::string> id_filter, state_filter;
    bool has_id_filter = false, has_state_filter = false;
    for (int f = 1;; ++f) {
      std::string prefix = "Filter." + std::to_string(f);
      auto name = param(p, prefix + ".Name");
      if (name.empty()) break;
      auto values = list_param(p, prefix + ".Value");
      if (name == "instance-id") {
        has_id_filter = true;
        id_filter.insert(values.begin(), values.end());
      } else if (name == "instance-state-name") {
        has_state_filter = true;
        state_filter.insert(values.begin(), values.end());
      } else {
        return ec2_error(400, "InvalidParameterValue", "The filter '" + name + "' is invalid");
      }
    }
    int max_results = 0;
    if (auto mr = param(p, "MaxResults"); !mr.empty()) {
      if (!ids.empty())
        return ec2_error(400, "InvalidParameterCombination",
                         "The parameter instancesSet cannot be used with the parameter maxResults");
      try {
        max_results = std::stoi(mr);
      } catch (...) {
        max_results = -1;
      }
      if (max_results < 5 || max_results > 1000)
        return ec2_error(400, "InvalidParameterValue",
                         "Value ( " + mr + " ) for parameter maxResults is invalid. Expecting a value between 5 and "
                         "1000.");
    }
    for (const auto& id : ids)
      if (!instances.contains(id))
        return ec2_error(400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
    size_t offset = 0;
    if (auto tok = param(p, "NextToken"); !tok.empty()) {
      if (!tok.starts_with("ec2-") || !parse_offset(tok.substr(4), offset))
        return ec2_error(400, "InvalidParameterValue", "Invalid value for NextToken");
    }
    std::vector<const Instance*> selected;
    for (const auto& [id, inst] : instances) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
      if (has_id_filter && !id_filter.contains(id)) continue;
      if (has_state_filter && !state_filter.contains(inst.view.ec2_state)) continue;
      selected.push_back(&inst);
    }
    size_t end = max_results > 0 ? std::min(selected.size(), offset + static_cast<size_t>(max_results))
                                 : selected.size();

    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto root = doc.append_child("DescribeInstancesResponse");
    root.append_attribute("xmlns") = kEc2Ns;
    root.append_child("requestId").text() = request_id().c_str();
    auto rs = root.append_child("reservationSet");
    static const std::map<std::string, int> codes = {{"pending", 0},   {"running", 16},  {"shutting-down", 32},
                                                     {"terminated", 48}, {"stopping", 64}, {"stopped", 80}};
    for (size_t i = offset; i < end; ++i) {
      const Instance& inst = *selected[i];
      const auto& v = inst.view;
      // One reservation per instance, as when each was launched by its own RunInstances call (what Auto Scaling
      // does).
      auto r = rs.append_child("item");
      r.append_child("reservationId").text() = ("r-" + v.id.substr(2)).c_str();
      r.append_child("ownerId").text() = "123456789012";
      r.append_child("requesterId").text() = "940372691376";
      r.append_child("groupSet");
      auto item = r.append_child("instancesSet").append_child("item");
      item.append_child("instanceId").text() = v.id.c_str();
      item.append_child("imageId").text() = "ami-0123456789abcdef0";
      auto st = item.append_child("instanceState");
      st.append_child("code").text() = codes.count(v.ec2_state) ? codes.at(v.ec2_state) : 0;
      st.append_child("name").text() = v.ec2_state.c_str();
      bool has_ip = v.ec2_state != "terminated";
      std::string dns = "ip-" + v.address + "." + opt.region + ".compute.internal";
      std::replace(dns.begin(), dns.begin() + static_cast<long>(3 + v.address.size()), '.', '-');
      item.append_child("privateDnsName").text() = has_ip ? dns.c_str() : "";
      item.append_child("dnsName");
      item.append_child("reason");
      item.append_child("amiLaunchIndex").text() = 0;
      item.append_child("productCodes");
      item.append_child("instanceType").text() = "t3.micro";
      item.append_child("launchTime").text() = iso8601(std::chrono::system_clock::now()).c_str();
      auto pl = item.append_child("placement");
      pl.append_child("availabilityZone").text() = v.zone.c_str();
      pl.append_child("groupName");
      pl.append_child("tenancy").text() = "default";
      item.append_child("monitoring").append_child("state").text() = "disabled";
      if (has_ip) {
        item.append_child("subnetId").text() = "subnet-0123456789abcdef0";
        item.append_child("vpcId").text() = "vpc-0123456789abcdef0";
        item.append_child("privateIpAddress").text() = v.address.c_str();
      }
      item.append_child("architecture").text() = "x86_64";
      item.append_child("rootDeviceType").text() = "ebs";
      item.append_child("rootDeviceName").text() = "/dev/xvda";
      item.append_child("virtualizationType").text() = "hvm";
      auto tags = item.append_child("tagSet").append_child("item");
      tags.append_child("key").text() = "aws:autoscaling:groupName";
      tags.append_child("value").text() = v.group.c_str();
      item.append_child("hypervisor").text() = "xen";
    }
    if (end < selected.size()) root.append_child("nextToken").text() = ("ec2-" + std::to_string(end)).c_str();
    return {200, xml_string(doc)};
  }

  // ---- request handling -------------------------------------------------------------------------------------------

  // Checks the signature and the key. Returns an error answer, or nullopt when the request may proceed.
  std::optional<Answer> authenticate(const httplib::Request& req, const std::string& service) {
    aws::SignableRequest sr;
    sr.method = req.method;
    auto q = req.target.find('?');
    sr.path = req.target.substr(0, q);
    sr.query = q == std::string::npos ? "" : req.target.substr(q + 1);
    for (const auto& [k, v] : req.headers) sr.headers.emplace_back(k, v);
    sr.body = req.body;
    auto now = std::chrono::system_clock::now();
    auto verified = aws::verify(
        sr,
        [&](const std::string& key) -> std::optional<std::string> {
          if (key == opt.access_key_id) return opt.secret_access_key;
          auto it = temp_credentials.find(key);
          if (it != temp_credentials.end()) return it->second.secret;
          return std::nullopt;
        },
        now);
    if (!verified) {
      const auto& e = verified.error();
      int status = e.code == "MissingAuthenticationToken" ? 403 : (e.code == "IncompleteSignature" ? 400 : 403);
      // EC2 answers AuthFailure for every bad-credential case; Auto Scaling names the cause.
      if (service == "ec2" && e.code != "MissingAuthenticationToken" && e.code != "IncompleteSignature")
        return ec2_error(401, "AuthFailure", "AWS was not able to validate the provided access credentials");
      return error_for(service, status, e.code, e.message);
    }
    if (auto it = temp_credentials.find(verified->access_key_id); it != temp_credentials.end()) {
      std::string token = req.get_header_value("X-Amz-Security-Token");
      if (token != it->second.token)
        return error_for(service, 403, "InvalidClientTokenId",
                         "The security token included in the request is invalid.");
      if (now >= it->second.expires)
        return error_for(service, 403, "ExpiredToken", "The security token included in the request is expired");
    }
    return std::nullopt;
  }

  void handle_aws(const httplib::Request& req, httplib::Response& res) {
    Params params = parse_form(req.target.find('?') == std::string::npos
                                   ? std::string_view()
                                   : std::string_view(req.target).substr(req.target.find('?') + 1));
    if (req.method == "POST") {
      auto form = parse_form(req.body);
      params.insert(form.begin(), form.end());
    }
    std::string action = param(params, "Action");
    // The signing scope names the service; without one, guess from the action (for the error document's shape).
    std::string service = action == "DescribeInstances" ? "ec2" : "autoscaling";
    if (auto auth = aws::parse_authorization(req.get_header_value("Authorization")); auth) service = auth->service;

    Answer answer;
    std::optional<Fault> fault;
    {
      std::lock_guard lock(mu);
      if (auto denied = authenticate(req, service)) {
        answer = *denied;
      } else if (action.empty()) {
        answer = error_for(service, 400, "MissingAction", "The request must contain the parameter Action");
      } else {
        ++calls[action];
        fault = take_fault(action);
        if (fault && fault->kind == Fault::Kind::Throttle) {
          answer = service == "ec2" ? ec2_error(503, "RequestLimitExceeded", "Request limit exceeded.")
                                    : asg_error(400, "Throttling", "Rate exceeded");
        } else if (fault && fault->kind == Fault::Kind::ServerError) {
          answer = service == "ec2" ? ec2_error(500, "InternalError",
                                                "An internal error has occurred")
                                    : asg_error(500, "InternalFailure", "An internal error occurred.");
        } else if (service == "autoscaling" && action == "DescribeAutoScalingGroups") {
          answer = describe_auto_scaling_groups(params);
        } else if (service == "ec2" && action == "DescribeInstances") {
          answer = describe_instances(params);
        } else {
          answer = error_for(service, 400, "InvalidAction",
                             "The action " + action + " is not valid for this web service.");
        }
      }
    }
    if (fault && fault->kind == Fault::Kind::Slow)
      std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
    if (fault && fault->kind == Fault::Kind::Malformed) answer.body = answer.body.substr(0, answer.body.size() / 2);
    res.status = answer.status;
    res.set_header("x-amzn-RequestId", request_id());
    res.set_content(answer.body, "text/xml");
  }

  void handle_imds(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    auto now_steady = std::chrono::steady_clock::now();
    if (req.path == "/latest/api/token") {
      if (req.method != "PUT") {
        res.status = 405;
        return;
      }
      int ttl = 0;
      try {
        ttl = std::stoi(req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds"));
      } catch (...) {
      }
      if (ttl < 1 || ttl > 21600) {
        res.status = 400;
        return;
      }
      std::string token = random_hex(rng, 40);
      imds_tokens[token] = now_steady + std::chrono::seconds(ttl);
      res.set_header("X-aws-ec2-metadata-token-ttl-seconds", std::to_string(ttl));
      res.set_content(token, "text/plain");
      return;
    }
    // IMDSv2 only: a GET without a valid token is 401, as on an instance with HttpTokens=required.
    auto tok = imds_tokens.find(req.get_header_value("X-aws-ec2-metadata-token"));
    if (tok == imds_tokens.end() || tok->second <= now_steady) {
      res.status = 401;
      return;
    }
    const std::string creds_path = "/latest/meta-data/iam/security-credentials/";
    if (req.path == creds_path) {
      res.set_content(opt.imds_role, "text/plain");
    } else if (req.path == creds_path + opt.imds_role) {
      auto now = std::chrono::system_clock::now();
      std::string key = "ASIA" + random_hex(rng, 16);
      for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      TempCredentials tc{random_hex(rng, 40), random_hex(rng, 64), now + opt.imds_credentials_lifetime};
      temp_credentials[key] = tc;
      nlohmann::json j = {{"Code", "Success"},          {"LastUpdated", iso8601(now)},
                          {"Type", "AWS-HMAC"},         {"AccessKeyId", key},
                          {"SecretAccessKey", tc.secret}, {"Token", tc.token},
                          {"Expiration", iso8601(tc.expires)}};
      res.set_content(j.dump(2), "text/plain");
    } else if (req.path == "/latest/meta-data/placement/region") {
      res.set_content(opt.region, "text/plain");
    } else if (req.path == "/latest/meta-data/placement/availability-zone") {
      res.set_content(opt.zones.front(), "text/plain");
    } else if (req.path == "/latest/meta-data/instance-id") {
      res.set_content("i-0loadbalancer0000", "text/plain");
    } else {
      res.status = 404;
    }
  }

  // ---- control API ------------------------------------------------------------------------------------------------

  void handle_control(const httplib::Request& req, httplib::Response& res, Simulator& sim) {
    auto reply = [&](const Status& st) {
      if (st) {
        res.set_content(R"({"ok":true})", "application/json");
      } else {
        res.status = 400;
        res.set_content(nlohmann::json{{"ok", false}, {"error", st.error().message}}.dump(), "application/json");
      }
    };
    nlohmann::json body = nlohmann::json::object();
    if (!req.body.empty()) {
      body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) return reply(make_error("BadRequest", "body is not a JSON object"));
    }
    auto parts = split(req.path, '/');  // "", "_sim", ...
    auto at = [&](size_t i) { return i < parts.size() ? parts[i] : std::string(); };
    if (req.method == "GET" && at(2) == "state") {
      res.set_content(sim.state_json(), "application/json");
    } else if (req.method == "POST" && at(2) == "groups" && parts.size() == 3) {
      reply(sim.create_group(body.value("name", ""), body.value("desired", 0), body.value("min", 0),
                             body.value("max", 10000)));
    } else if (req.method == "POST" && at(2) == "groups" && at(4) == "desired") {
      reply(sim.set_desired(at(3), body.value("desired", -1)));
    } else if (req.method == "POST" && at(2) == "instances" && at(4) == "lifecycle") {
      reply(sim.set_lifecycle(at(3), body.value("state", "")));
    } else if (req.method == "POST" && at(2) == "instances" && at(4) == "health") {
      reply(sim.set_health(at(3), body.value("health", "")));
    } else if (req.method == "POST" && at(2) == "instances" && at(4) == "ec2-state") {
      reply(sim.set_ec2_state(at(3), body.value("state", "")));
    } else if (req.method == "POST" && at(2) == "instances" && at(4) == "kill") {
      reply(sim.kill_server(at(3)));
    } else if (req.method == "POST" && at(2) == "faults") {
      auto kind = parse_fault_kind(body.value("kind", ""));
      if (!kind) return reply(kind.error());
      sim.inject(Fault{body.value("action", "*"), *kind, body.value("count", 1), body.value("delay_ms", 0)});
      reply(Ok{});
    } else if (req.method == "DELETE" && at(2) == "faults") {
      sim.clear_faults();
      reply(Ok{});
    } else {
      res.status = 404;
      res.set_content(R"({"ok":false,"error":"no such control endpoint"})", "application/json");
    }
  }
};

Result<Fault::Kind> parse_fault_kind(const std::string& s) {
  if (s == "throttle") return Fault::Kind::Throttle;
  if (s == "5xx" || s == "server-error") return Fault::Kind::ServerError;
  if (s == "slow") return Fault::Kind::Slow;
  if (s == "malformed") return Fault::Kind::Malformed;
  return make_error("BadRequest", "unknown fault kind '" + s + "' (throttle, 5xx, slow, malformed)");
}

Simulator::Simulator(SimOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Simulator::~Simulator() { stop(); }

Status Simulator::start() {
  auto& s = impl_->server;
  s.new_task_queue = [] { return new httplib::ThreadPool(4); };
  auto aws = [this](const httplib::Request& req, httplib::Response& res) { impl_->handle_aws(req, res); };
  auto imds = [this](const httplib::Request& req, httplib::Response& res) { impl_->handle_imds(req, res); };
  auto control = [this](const httplib::Request& req, httplib::Response& res) {
    impl_->handle_control(req, res, *this);
  };
  s.Post("/", aws);
  s.Get("/", aws);
  s.Put("/latest/api/token", imds);
  s.Get(R"(/latest/.*)", imds);
  s.Get(R"(/_sim/.*)", control);
  s.Post(R"(/_sim/.*)", control);
  s.Delete(R"(/_sim/.*)", control);
  if (impl_->opt.port > 0) {
    if (!s.bind_to_port(impl_->opt.host, impl_->opt.port))
      return make_error("BindFailed", "cannot listen on " + impl_->opt.host + ":" + std::to_string(impl_->opt.port));
    impl_->bound_port = impl_->opt.port;
  } else {
    impl_->bound_port = s.bind_to_any_port(impl_->opt.host);
    if (impl_->bound_port <= 0) return make_error("BindFailed", "cannot listen on " + impl_->opt.host);
  }
  impl_->server_thread = std::thread([this] { impl_->server.listen_after_bind(); });
  impl_->ticker = std::thread([this] {
    std::unique_lock lock(impl_->mu);
    while (!impl_->stopping) {
      impl_->cv.wait_for(lock, std::chrono::milliseconds(20));
      lock.unlock();
      impl_->tick();
      lock.lock();
    }
  });
  return Ok{};
}

void Simulator::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  impl_->cv.notify_all();
  impl_->server.stop();
  if (impl_->server_thread.joinable()) impl_->server_thread.join();
  if (impl_->ticker.joinable()) impl_->ticker.join();
}

int Simulator::port() const { return impl_->bound_port; }
std::string Simulator::url() const { return "http://" + impl_->opt.host + ":" + std::to_string(impl_->bound_port); }
const SimOptions& Simulator::options() const { return impl_->opt; }

Status Simulator::create_group(const std::string& name, int desired, int min_size, int max_size) {
  if (name.empty()) return make_error("ValidationError", "a group needs a name");
  if (desired < 0 || desired < min_size || desired > max_size)
    return make_error("ValidationError", "desired capacity " + std::to_string(desired) + " is outside [" +
                                             std::to_string(min_size) + ", " + std::to_string(max_size) + "]");
  std::lock_guard lock(impl_->mu);
  if (impl_->groups.contains(name))
    return make_error("AlreadyExists", "AutoScalingGroup by this name already exists: " + name);
  Group g{name, min_size, max_size, desired, iso8601(std::chrono::system_clock::now())};
  auto& ref = impl_->groups[name] = g;
  impl_->reconcile(ref);
  return Ok{};
}

Status Simulator::set_desired(const std::string& name, int desired) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->groups.find(name);
  if (it == impl_->groups.end()) return make_error("ValidationError", "AutoScalingGroup name not found - " + name);
  if (desired < it->second.min_size || desired > it->second.max_size)
    return make_error("ValidationError", "New SetDesiredCapacity value " + std::to_string(desired) +
                                             " is outside of the group's limits");
  it->second.desired = desired;
  impl_->reconcile(it->second);
  return Ok{};
}

namespace {

Status find_member(Simulator::Impl& impl, const std::string& id, Instance** out) {
  auto it = impl.instances.find(id);
  if (it == impl.instances.end() || !it->second.member)
    return make_error("ValidationError", "instance " + id + " is not a member of any group");
  *out = &it->second;
  return Ok{};
}

}  // namespace

Status Simulator::set_lifecycle(const std::string& instance_id, const std::string& state) {
  static const std::set<std::string> valid = {
      "Pending",     "Pending:Wait", "Pending:Proceed", "Quarantined", "InService", "Terminating",
      "Terminating:Wait", "Terminating:Proceed", "Detaching", "Detached", "EnteringStandby", "Standby",
      "Warmed:Pending", "Warmed:Running"};
  if (!valid.contains(state)) return make_error("ValidationError", "unknown lifecycle state '" + state + "'");
  std::lock_guard lock(impl_->mu);
  Instance* inst = nullptr;
  if (auto st = find_member(*impl_, instance_id, &inst); !st) return st;
  inst->view.lifecycle = state;
  inst->changed = std::chrono::steady_clock::now();
  if (state == "InService" && !inst->in_service) inst->in_service = inst->changed;
  return Ok{};
}

Status Simulator::set_health(const std::string& instance_id, const std::string& health) {
  if (health != "Healthy" && health != "Unhealthy")
    return make_error("ValidationError", "health must be Healthy or Unhealthy");
  std::lock_guard lock(impl_->mu);
  Instance* inst = nullptr;
  if (auto st = find_member(*impl_, instance_id, &inst); !st) return st;
  inst->view.health = health;
  return Ok{};
}

Status Simulator::set_ec2_state(const std::string& instance_id, const std::string& state) {
  static const std::set<std::string> valid = {"pending", "running", "shutting-down", "terminated", "stopping",
                                              "stopped"};
  if (!valid.contains(state)) return make_error("ValidationError", "unknown EC2 state '" + state + "'");
  std::lock_guard lock(impl_->mu);
  Instance* inst = nullptr;
  if (auto st = find_member(*impl_, instance_id, &inst); !st) return st;
  inst->view.ec2_state = state;
  if (state == "running")
    impl_->start_server(*inst);
  else
    impl_->stop_server(*inst);
  return Ok{};
}

Status Simulator::kill_server(const std::string& instance_id) {
  std::lock_guard lock(impl_->mu);
  Instance* inst = nullptr;
  if (auto st = find_member(*impl_, instance_id, &inst); !st) return st;
  impl_->stop_server(*inst);
  return Ok{};
}

std::vector<SimInstance> Simulator::instances(const std::string& group) const {
  std::lock_guard lock(impl_->mu);
  std::vector<SimInstance> out;
  for (const auto& [id, inst] : impl_->instances)
    if (inst.member && (group.empty() || inst.view.group == group)) out.push_back(inst.view);
  return out;
}

std::vector<InstanceTimes> Simulator::instance_times() const {
  std::lock_guard lock(impl_->mu);
  std::vector<InstanceTimes> out;
  for (const auto& [id, inst] : impl_->instances)
    out.push_back({id, inst.view.group, inst.in_service, impl_->fleet.first_request_time(id)});
  return out;
}

void Simulator::inject(const Fault& fault) {
  std::lock_guard lock(impl_->mu);
  impl_->faults.push_back(fault);
}

void Simulator::clear_faults() {
  std::lock_guard lock(impl_->mu);
  impl_->faults.clear();
}

uint64_t Simulator::calls(const std::string& action) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->calls.find(action);
  return it == impl_->calls.end() ? 0 : it->second;
}

std::map<std::string, uint64_t> Simulator::all_calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->calls;
}

uint64_t Simulator::instance_requests(const std::string& instance_id) const {
  return impl_->fleet.requests(instance_id);
}

std::string Simulator::state_json() const {
  std::lock_guard lock(impl_->mu);
  nlohmann::json j;
  j["groups"] = nlohmann::json::array();
  for (const auto& [name, g] : impl_->groups) {
    nlohmann::json gj = {{"name", name}, {"desired", g.desired}, {"min", g.min_size}, {"max", g.max_size}};
    gj["instances"] = nlohmann::json::array();
    for (const auto& [id, inst] : impl_->instances) {
      if (!inst.member || inst.view.group != name) continue;
      const auto& v = inst.view;
      gj["instances"].push_back({{"id", v.id},
                                 {"zone", v.zone},
                                 {"address", v.address},
                                 {"lifecycle", v.lifecycle},
                                 {"health", v.health},
                                 {"ec2_state", v.ec2_state},
                                 {"server_running", v.server_running},
                                 {"requests", impl_->fleet.requests(v.id)}});
    }
    j["groups"].push_back(gj);
  }
  j["calls"] = impl_->calls;
  return j.dump(2);
}

}  // namespace hasg::sim
