// The verdicts of `haproxy-asg doctor`: each a pure function of gathered facts (facts.h), returning what was found
// and the exact fix. No I/O here.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "doctor/facts.h"
#include "doctor/report.h"

namespace hasg::doctor {

// The oldest HAProxy haproxy-asg works with: it sends `add server` (2.4) with health and agent checks (2.5) without
// experimental-mode (2.6: "MEDIUM: server: remove experimental-mode for dynamic servers", 2.6-dev3).
inline constexpr int kMinMajor = 2;
inline constexpr int kMinMinor = 6;

// "2.6.12-1+deb12u4" (or `haproxy -v`'s first line) -> {2, 6}; nullopt when there is no version in it.
std::optional<std::pair<int, int>> major_minor(std::string_view version);

CheckResult check_version(const HaproxyBinary& binary, const RuntimeSocket& runtime);
// What haproxy-asg needs of each managed backend on this HAProxy: a dynamic load-balancing algorithm and
// server_options that `add server` accepts.
CheckResult check_backend(const config::BackendConfig& backend, const ProxyConfig& proxies);
CheckResult check_runtime_socket(const RuntimeSocket& runtime);
CheckResult check_master_socket(const MasterSocket& master);
// The descriptors HAProxy needs for maxconn against the limit it starts under, fs.nr_open and fs.file-max.
CheckResult check_fd_limits(const FdLimits& limits, const RuntimeSocket& runtime, const ProxyConfig& proxies);
// Each listener's backlog against net.core.somaxconn (the kernel silently caps listen()'s backlog at it).
CheckResult check_backlog(const NetLimits& net, const RuntimeSocket& runtime, const ProxyConfig& proxies);
// The ephemeral port range against maxconn (connections to one server address share it).
CheckResult check_ephemeral_ports(const NetLimits& net, const RuntimeSocket& runtime, const ProxyConfig& proxies);

CheckResult check_region(const AwsSetup& setup);
CheckResult check_credentials(const AwsSetup& setup);
CheckResult check_imds(const ImdsFacts& imds, const AwsSetup& setup);
CheckResult check_group(const GroupFacts& group);
// The backend's termination hook (a warning when haproxy-asg owns none), and its launch hook when configured.
std::vector<CheckResult> check_hooks(const config::BackendConfig& backend, const GroupFacts& group);
// The events queue, from the ReceiveMessage probe.
CheckResult check_queue(const std::string& queue_url, const Probe& receive);

// Error codes that mean "IAM does not allow this" (Auto Scaling and SQS: AccessDenied; SQS's JSON protocol:
// AccessDeniedException; EC2: UnauthorizedOperation).
bool is_denial(const std::string& code);
// SQS's "the queue does not exist" (Query code, and the JSON protocol's __type).
bool is_missing_queue(const std::string& code);

}  // namespace hasg::doctor
