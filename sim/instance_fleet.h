// The simulated instances' HTTP servers: one listening socket per instance on its own loopback address
// (127.0.x.y:port), all served by one epoll thread, answering every request with the instance id. One thread
// for thousands of instances is why this is written here instead of with cpp-httplib (a thread pool per server).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "util/result.h"

namespace hasg::sim {

class InstanceFleet {
 public:
  InstanceFleet();
  ~InstanceFleet();
  InstanceFleet(const InstanceFleet&) = delete;
  InstanceFleet& operator=(const InstanceFleet&) = delete;

  // Starts serving `id` on address:port (HTTP/1.1, keep-alive). Body: "<id>\n"; header X-Instance-Id: <id>.
  // `delay_ms` > 0 makes every answer wait that long (slow servers for draining tests); with `stream` the status
  // line, headers and the body's first byte leave at once and the rest of the body `delay_ms` later (a response in
  // flight that a dying server cuts, which HAProxy cannot retry); `jitter_ms` spreads each answer's delay uniformly
  // over delay_ms +- jitter_ms (constant delays keep a closed-loop load generator's connections in lockstep).
  // A request may ask for its own delay in its target's query, `?delay_ms=N` (0-60000; streamed and spread as
  // above): several load balancers' clients of one fleet can then wait 0.5 s and 3 s on the same instances.
  Status start(const std::string& id, const std::string& address, int port, int delay_ms = 0, bool stream = false,
               int jitter_ms = 0);
  // Stops serving: closes the listener and resets every open connection, as a dying machine would.
  void kill(const std::string& id);
  bool running(const std::string& id) const;
  // Requests answered so far by `id` (0 when unknown).
  uint64_t requests(const std::string& id) const;
  // When `id` answered its first request (steady clock; kept across kill() and restart), nullopt before that or
  // when unknown. Every answered request counts, health checks included.
  std::optional<std::chrono::steady_clock::time_point> first_request_time(const std::string& id) const;
  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hasg::sim
