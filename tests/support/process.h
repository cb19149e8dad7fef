// Test support: child processes (started with posix_spawn, killed on destruction), temp dirs, free ports,
// polling. Used by integration tests to run the real haproxy-asg binary, HAProxy and the simulator.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hasg::test {

// A path to a built program or source file.
std::string binary_path(const std::string& name);   // HASG_BINARY_DIR/name
std::string source_path(const std::string& rel);    // HASG_SOURCE_DIR/rel
std::string shared_path(const std::string& rel);    // ../shared/rel

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);  // empty when missing

// An unused TCP port on 127.0.0.1 (bound and released; good enough for tests).
int free_port();

// Polls `cond` every 20 ms until true or `timeout`; returns its last value.
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Environment for children: this process's, with `overrides` applied (an empty value unsets the variable).
// AWS_EC2_METADATA_DISABLED=true is always set unless overridden, so that no test ever reaches for the real
// metadata address.
using EnvOverrides = std::map<std::string, std::string>;

class Process {
 public:
  // Starts argv[0] (a path) with stdout and stderr appended to `log_path` (or /dev/null when empty).
  Process(const std::vector<std::string>& argv, const EnvOverrides& env = {}, const std::string& log_path = "");
  ~Process();  // SIGTERM, then SIGKILL after 3 s
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  int pid() const { return pid_; }
  bool alive();
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  int pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs a command to completion (killed after `timeout`), capturing stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv, const EnvOverrides& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace hasg::test
