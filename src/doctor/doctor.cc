#include "doctor/doctor.h"

#include <optional>

#include "config/config.h"
#include "doctor/checks.h"
#include "doctor/permissions.h"

namespace hasg::doctor {

std::vector<CheckResult> run_doctor(const DoctorOptions& options, const Host& host,
                                    std::unique_ptr<aws::Environment> env) {
  std::vector<CheckResult> out;
  std::optional<config::Config> cfg;
  if (options.config_path.empty()) {
    out.push_back(skip("config", std::string("no --config and no ") + kDefaultConfigPath +
                                     ": the HAProxy sockets, backends, groups, hooks, events queue and AWS "
                                     "permissions are not checked"));
  } else if (auto loaded = config::load_config(options.config_path); loaded) {
    cfg = *loaded;
    out.push_back(pass("config", options.config_path + " is valid"));
  } else {
    out.push_back(fail("config", loaded.error().message,
                       "fix " + options.config_path + " (README, \"Configuration\"); the checks that need it are "
                       "skipped"));
  }

  // HAProxy.
  const std::string binary = cfg ? cfg->haproxy.binary : options.binary;
  auto runtime = gather_runtime(cfg ? cfg->haproxy.runtime_socket : "");
  std::optional<MasterSocket> master;
  if (cfg) master = gather_master(cfg->haproxy.master_socket);
  // The user's haproxy.cfg: the template haproxy-asg renders from, else the file Debian's unit runs.
  auto proxies = gather_proxy_config(cfg ? cfg->haproxy.template_path : options.haproxy_config);
  out.push_back(check_version(gather_binary(host, binary), runtime));
  if (cfg)
    for (const auto& b : cfg->backends) out.push_back(check_backend(b, proxies));
  out.push_back(check_runtime_socket(runtime));
  if (master) out.push_back(check_master_socket(*master));

  // The system's limits against HAProxy's settings.
  int master_pid = master && !master->error ? master->master_pid : 0;
  out.push_back(check_fd_limits(gather_fd_limits(host, options.unit, master_pid), runtime, proxies));
  auto net = gather_net_limits(host);
  out.push_back(check_backlog(net, runtime, proxies));
  out.push_back(check_ephemeral_ports(net, runtime, proxies));

  // AWS.
  auto aws = gather_aws(cfg ? &*cfg : nullptr, std::move(env));
  out.push_back(check_region(aws.setup));
  out.push_back(check_credentials(aws.setup));
  out.push_back(check_imds(aws.imds, aws.setup));
  if (!cfg) return out;
  if (aws.setup.region_error || aws.setup.credentials_error) {
    out.push_back(skip("aws.config", "no AWS client: the groups, hooks, events queue and permissions are not checked"));
    return out;
  }
  for (const auto& [need, probe] : aws.permissions) out.push_back(check_permission(need, probe));
  for (const auto& g : aws.groups) out.push_back(check_group(g));
  for (const auto& b : cfg->backends) {
    for (const auto& g : aws.groups)
      if (g.group == b.group)
        for (auto& r : check_hooks(b, g)) out.push_back(std::move(r));
  }
  if (aws.queue_receive) out.push_back(check_queue(cfg->events_queue_url, *aws.queue_receive));
  return out;
}

}  // namespace hasg::doctor
