// The edges a sync cycle touches on the HAProxy side: the runtime and master sockets, and the configuration file
// on disk. Interfaces, so the cycle is tested in memory as well as against a real HAProxy.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/types.h"
#include "haproxy/runtime_client.h"
#include "util/result.h"

namespace hasg::daemon {

class HaproxyControl {
 public:
  virtual ~HaproxyControl() = default;
  // HAProxy's servers of these backends. An Error with code "HaproxyNotRunning" means nothing listens on the
  // runtime socket. Sessions (current_sessions) are read for servers in drain and every server of the backends in
  // `sessions_of`; elsewhere they read 0 (a sync cycle looks at the sessions of draining servers only).
  virtual Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>& backends,
                                                           const std::set<std::string>& sessions_of) = 0;
  virtual Result<haproxy::RuntimeClient::ApplyResult> apply(const std::vector<core::Op>& ops) = 0;
  // A seamless reload through the master CLI, checked (the new worker is up).
  virtual Status reload() = 0;
};

std::unique_ptr<HaproxyControl> make_socket_control(const config::HaproxySettings& settings);

class ConfigFiles {
 public:
  virtual ~ConfigFiles() = default;
  virtual Result<std::string> read_template() = 0;
  // The configuration HAProxy was last given; an empty string when there is none yet.
  virtual Result<std::string> read_current() = 0;
  // Writes `text` beside the configuration and validates it with `haproxy -c`; nothing is replaced yet.
  virtual Status stage(const std::string& text) = 0;
  // Takes `text` as staged without `haproxy -c`: only for a render haproxy::admits() after one that passed it.
  virtual Status stage_unchecked(const std::string& text) = 0;
  // Atomically replaces the configuration with what was staged.
  virtual Status install() = 0;
};

std::unique_ptr<ConfigFiles> make_disk_files(const config::HaproxySettings& settings);

}  // namespace hasg::daemon
