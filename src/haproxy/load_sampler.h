// Reads the backend counters of every live HAProxy worker (haproxy/../core/load.h says why per worker). With the
// master socket: "show proc" lists the current and the old workers (an old one finishes its requests after a
// reload), and each is read through the master with "@!PID show stat -1 2 -1" (backend rows only). Without it:
// the runtime socket's "show info" (Pid) and "show stat -1 2 -1", the current worker only.
//
// During a reload the master re-executes itself and does not answer for a while, and the runtime socket passes to
// the new worker before the outgoing one stops taking requests: sample_quick() asks the master with a short
// timeout and falls back to the worker answering the runtime socket, so the publisher can follow the outgoing
// worker closely (every 10 ms) until it has handed over and finished.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/load.h"
#include "util/result.h"

namespace hasg::haproxy {

class LoadSampler {
 public:
  virtual ~LoadSampler() = default;
  struct Sampled {
    core::LoadSample sample;
    bool complete = true;  // false: some workers only (one listed could not be read)
  };
  // Every live worker. An Error with code "HaproxyNotRunning" when nothing listens.
  virtual Result<Sampled> sample() = 0;
  // Every worker if the master answers within 100 ms, else the worker answering the runtime socket only.
  virtual Result<Sampled> sample_quick() = 0;
};

std::unique_ptr<LoadSampler> make_load_sampler(std::string runtime_socket, std::string master_socket,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(2));

// "show info": the worker's Pid.
Result<int> parse_info_pid(const std::string& text);

}  // namespace hasg::haproxy
