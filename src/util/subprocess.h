// Running a program to completion and reading what it printed: `haproxy -c`, `haproxy -v`, `systemctl show`.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "util/result.h"

namespace hasg {

struct ProgramResult {
  bool exited = false;  // exited normally (else killed by a signal)
  int status = -1;      // the exit status, or the signal
  std::string output;   // stdout and stderr together, at most `max_output` bytes
  bool success() const { return exited && status == 0; }
  std::string how() const;  // "exit status 1", "killed by signal 9"
};

// Runs argv (no shell; argv[0] without '/' is looked up in PATH) with stdin from /dev/null and an empty signal mask
// (the daemon blocks SIGHUP/SIGTERM in every thread; a child must not inherit that). Errors: "SpawnError" when it
// cannot be started, "Timeout" when it outlasts `timeout` (then it is killed).
Result<ProgramResult> run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                  size_t max_output = 1 << 20);

}  // namespace hasg
