// `haproxy-asg doctor`: gathers the facts (gather.h) and judges them (checks.h, permissions.h), in the order an
// operator fixes things: the configuration, HAProxy, the system's limits, then AWS.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/environment.h"
#include "doctor/gather.h"
#include "doctor/report.h"

namespace hasg::doctor {

// Where the YAML is looked for when --config is not given (packaging/: the systemd units read it there).
inline constexpr const char* kDefaultConfigPath = "/etc/haproxy-asg/haproxy-asg.yaml";

struct DoctorOptions {
  std::string config_path;  // empty: no configuration (only what can be checked without one)
  // Without a configuration: the HAProxy binary, and the file Debian's haproxy.service runs it with.
  std::string binary = "/usr/sbin/haproxy";
  std::string haproxy_config = "/etc/haproxy/haproxy.cfg";
  std::string unit = "haproxy.service";  // whose LimitNOFILE HAProxy starts under
};

std::vector<CheckResult> run_doctor(const DoctorOptions& options, const Host& host,
                                    std::unique_ptr<aws::Environment> env);

}  // namespace hasg::doctor
