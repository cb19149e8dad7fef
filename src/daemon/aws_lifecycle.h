// LifecycleControl over Auto Scaling's lifecycle calls, with each hook's settings read once
// (DescribeLifecycleHooks) and checked against the configuration: a hook that does not exist, has the wrong
// transition, or whose global timeout is shorter than the drain timeout is a warning at start.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "aws/autoscaling.h"
#include "aws/query_client.h"
#include "config/config.h"
#include "daemon/lifecycle_control.h"

namespace hasg::daemon {

class AwsLifecycleControl : public LifecycleControl {
 public:
  explicit AwsLifecycleControl(aws::QueryClient& client) : client_(client) {}

  Status complete(const std::string& group, const std::string& hook, const std::string& instance,
                  const std::string& result) override;
  Status heartbeat(const std::string& group, const std::string& hook, const std::string& instance) override;
  std::chrono::milliseconds heartbeat_timeout(const std::string& group, const std::string& hook) override;
  Status report_unhealthy(const std::string& instance) override;

  // Reads every configured hook afresh and logs what does not fit (a missing hook, a wrong transition, a
  // drain_timeout above the hook's global timeout). A group that cannot be read is read again a minute later.
  void check(const config::Config& cfg);

 private:
  std::optional<aws::LifecycleHook> hook(const std::string& group, const std::string& name);

  aws::QueryClient& client_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, aws::LifecycleHook> hooks_;  // (group, hook) -> settings
  std::map<std::string, std::chrono::steady_clock::time_point> read_at_;   // group -> last DescribeLifecycleHooks
};

// Whether any backend owns a lifecycle hook or feeds health back (else no lifecycle edge is needed).
bool uses_group_calls(const config::Config& cfg);

}  // namespace hasg::daemon
