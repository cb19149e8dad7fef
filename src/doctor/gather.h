// The edges of `haproxy-asg doctor`: reading /proc/sys, /proc/PID/limits, `systemctl show`, `haproxy -v`, the
// HAProxy sockets and configuration, and AWS, into the values of facts.h. Files and programs go through Host so
// that the parsers are tested from text; sockets and AWS are exercised by the integration tests against a real
// HAProxy and the simulator.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/environment.h"
#include "config/config.h"
#include "doctor/facts.h"
#include "doctor/permissions.h"
#include "util/result.h"
#include "util/subprocess.h"

namespace hasg::doctor {

class Host {
 public:
  virtual ~Host() = default;
  virtual Result<std::string> read_file(const std::string& path) const = 0;
  virtual Result<ProgramResult> run(const std::vector<std::string>& argv) const = 0;
};

class RealHost : public Host {
 public:
  Result<std::string> read_file(const std::string& path) const override;
  Result<ProgramResult> run(const std::vector<std::string>& argv) const override;
};

// Parsers (pure).
// "/proc/PID/limits" -> the hard "Max open files" ("unlimited": nullopt).
std::optional<long> parse_hard_nofile(std::string_view proc_limits);
// "32768\t60999\n" -> {32768, 60999}.
std::optional<std::pair<long, long>> parse_port_range(std::string_view text);
// `systemctl show UNIT -p LoadState -p LimitNOFILE` -> LimitNOFILE; nullopt when the unit is not found.
// "infinity" is `infinity`.
std::optional<long> parse_unit_limit(std::string_view text, long infinity);
// "Key: value" lines of "show info" -> value of `key` ("" when absent).
std::string info_field(std::string_view show_info, std::string_view key);

FdLimits gather_fd_limits(const Host& host, const std::string& unit, int haproxy_master_pid);
NetLimits gather_net_limits(const Host& host);
HaproxyBinary gather_binary(const Host& host, const std::string& path);
RuntimeSocket gather_runtime(const std::string& path);
MasterSocket gather_master(const std::string& path);
ProxyConfig gather_proxy_config(const std::string& path);

struct AwsFacts {
  AwsSetup setup;
  ImdsFacts imds;
  std::vector<std::pair<PermissionNeed, Probe>> permissions;
  std::vector<GroupFacts> groups;    // in the order of cfg.groups()
  std::optional<Probe> queue_receive;  // when events.queue_url is set
};

// Everything AWS: region, credentials, IMDS, and with a configuration its groups, hooks, queue and one harmless
// call per permission it needs.
AwsFacts gather_aws(const config::Config* cfg, std::unique_ptr<aws::Environment> env);

}  // namespace hasg::doctor
