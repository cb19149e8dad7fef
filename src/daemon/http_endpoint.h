// The daemon's observability port: GET /metrics (Prometheus text format 0.0.4), GET /healthz (200 "ok" or 503 with
// the reason) and GET /status (JSON). Anything else is 404.
//
// Served by cpp-httplib with a pool of 2 threads: it is a side port for a scraper and a health checker, not a web
// server. Listens on 127.0.0.1:9717 by default (config key `listen`); it never binds all interfaces unless the
// configuration names such an address explicitly. A port already in use is an error (no SO_REUSEPORT sharing).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "util/result.h"

namespace hasg::daemon {

inline constexpr const char* kDefaultListen = "127.0.0.1:9717";

struct ListenAddress {
  std::string host;  // without brackets: "127.0.0.1", "::1"
  int port = 0;      // 0: any free port
};

// "127.0.0.1:9717", "[::1]:9717", "localhost:9717", "127.0.0.1:0"; a bare port ("9717") means 127.0.0.1.
// An empty host (":9717") is refused rather than read as "all interfaces": name 0.0.0.0 or [::] for that.
Result<ListenAddress> parse_listen_address(const std::string& listen);

class HttpEndpoint {
 public:
  struct Handlers {
    std::function<std::string()> metrics;                   // the /metrics body; unset: 404
    std::function<std::pair<bool, std::string>()> health;   // {healthy, reason}; unset: always healthy
    std::function<std::string()> status_json;               // the /status body; unset: 404
  };

  explicit HttpEndpoint(Handlers h);
  ~HttpEndpoint();  // stops
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Binds and starts serving on a background thread. The error names the address (and why, when the system says).
  // Starting an endpoint that is already started is an error.
  Status start(const std::string& listen);
  // The bound port (the chosen one when started with port 0); 0 when not started.
  int port() const;
  // Stops serving and joins the threads; idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hasg::daemon
