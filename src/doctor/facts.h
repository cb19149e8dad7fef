// What `haproxy-asg doctor` gathers before it judges: plain values read from HAProxy, the system and AWS. The
// gatherers (haproxy_facts.cc, system_facts.cc, aws_facts.cc) fill them at the edge; the checks (checks.h) judge
// them without any I/O, so every verdict is tested from values.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "haproxy/renderer.h"

namespace hasg::doctor {

// A failed read or call: the error's code (an AWS code, "HaproxyNotRunning", ...) and its full message.
struct Failure {
  std::string code;
  std::string message;
  bool operator==(const Failure&) const = default;
};

// `haproxy -v` of the binary haproxy-asg validates with (and that a restart would run).
struct HaproxyBinary {
  std::string path;
  std::string version;  // "2.6.12-1+deb12u4"; empty when it could not be run or read
  std::optional<Failure> error;
};

// The runtime socket: "show cli level" and "show info".
struct RuntimeSocket {
  std::string path;  // empty: no configuration names one
  std::optional<Failure> error;
  std::string level;    // "admin", "operator" or "user"
  std::string version;  // of the running HAProxy
  long maxconn = 0;     // Maxconn
  long ulimit_n = 0;    // Ulimit-n: the descriptors HAProxy set itself (Maxsock, or the configured ulimit-n)
  bool answered() const { return !path.empty() && !error; }
};

// The master CLI (-S): "show proc".
struct MasterSocket {
  std::string path;  // empty: not configured
  std::optional<Failure> error;
  int master_pid = 0;
  size_t workers = 0;
  int reloads = 0;
};

// Settings read from the HAProxy configuration (the template: the user's haproxy.cfg).
struct ProxyConfig {
  std::string path;
  std::optional<Failure> error;
  long global_maxconn = 0;   // global "maxconn"; 0 when not set (HAProxy derives it from the descriptor limit)
  long global_ulimit_n = 0;  // global "ulimit-n"; 0 when not set (HAProxy computes it from maxconn)
  struct Listener {
    std::string proxy;  // the frontend or listen section
    long backlog = 0;   // what HAProxy passes to listen(); 0: the global maxconn, unknown here
    std::string from;   // which setting gave it ("bind backlog", "backlog", "maxconn", ...)
    bool operator==(const Listener&) const = default;
  };
  std::vector<Listener> listeners;
  struct Backend {
    std::string name;
    std::string balance = "roundrobin";  // the algorithm word ("source", "hdr(host)", ...)
    std::string hash_type = "map-based";
    bool operator==(const Backend&) const = default;
  };
  std::vector<Backend> backends;  // backend and listen sections
};

// Reads the settings above from parsed sections (pure). Each proxy inherits from the last "defaults" section before
// it (a "from" clause is not followed).
ProxyConfig proxy_config_from(const std::vector<haproxy::ConfigSection>& sections);

// Descriptor limits.
struct FdLimits {
  std::optional<long> nr_open;   // fs.nr_open: the most any process may be given
  std::optional<long> file_max;  // fs.file-max: all processes together
  std::string unit;                      // "haproxy.service"
  std::optional<long> unit_limit;        // its LimitNOFILE (hard), when systemd knows the unit
  std::optional<long> process_limit;     // the running HAProxy master's hard "Max open files"
};

struct NetLimits {
  std::optional<long> somaxconn;                          // net.core.somaxconn
  std::optional<std::pair<long, long>> ephemeral_ports;  // net.ipv4.ip_local_port_range
};

// IMDSv2 and this instance's metadata options.
struct ImdsFacts {
  bool disabled = false;  // AWS_EC2_METADATA_DISABLED
  std::string endpoint;
  std::optional<Failure> error;  // the token or instance-id could not be had
  std::string instance_id;
  std::optional<aws::InstanceMetadataOptions> options;
  std::optional<Failure> options_error;  // DescribeInstances of this instance failed
};

// Region and credentials, and where they came from.
struct AwsSetup {
  std::string region;
  std::optional<Failure> region_error;
  std::string credentials_source;  // "environment", "shared file (profile x)", "imds (role y)"
  std::optional<Failure> credentials_error;
};

// One harmless call made to learn whether a permission is granted.
struct Probe {
  std::string call;                   // what was sent, for the report
  std::optional<Failure> error;       // none: the call succeeded
  std::vector<std::string> harmless;  // error codes that prove the call was permitted (a made-up id refused)
};

struct GroupFacts {
  std::string group;
  std::optional<Failure> error;  // DescribeAutoScalingGroups failed
  bool exists = false;
  int instances = 0;
  int desired = 0;
  std::optional<Failure> hooks_error;  // DescribeLifecycleHooks failed
  std::vector<aws::LifecycleHook> hooks;
};

}  // namespace hasg::doctor
