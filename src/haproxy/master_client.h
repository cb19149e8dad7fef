// HAProxy's master CLI (master-worker mode, `-S` socket): the seamless reload, and `show proc`, whose reload
// counter proves whether a reload happened.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "util/result.h"

namespace hasg::haproxy {

struct ProcInfo {
  int master_pid = 0;
  int reloads = 0;         // master's reload count
  int failed_reloads = 0;  // "[failed: N]"
  std::vector<int> current_worker_pids;  // workers of the current generation
  std::vector<int> old_worker_pids;      // workers of earlier generations still finishing their requests
  bool operator==(const ProcInfo&) const = default;
};

Result<ProcInfo> parse_show_proc(const std::string& text);

class MasterClient {
 public:
  explicit MasterClient(std::string socket_path, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  Result<std::string> command(const std::string& cmd);
  Result<ProcInfo> show_proc();
  // Asks the master to reload and waits until a new worker generation is up (reload count grew, a worker pid not
  // seen before); an Error when the reload failed (failed count grew) or nothing changed within the timeout.
  Status reload(std::chrono::milliseconds wait = std::chrono::seconds(10));
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::chrono::milliseconds timeout_;
};

}  // namespace hasg::haproxy
