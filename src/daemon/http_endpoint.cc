#include "daemon/http_endpoint.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include <httplib.h>

namespace hasg::daemon {
namespace {

constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextType = "text/plain; charset=utf-8";
constexpr const char* kJsonType = "application/json";

// SO_REUSEADDR only: a restart may bind again while old connections sit in TIME_WAIT, but a port another process
// listens on is refused. (cpp-httplib's default sets SO_REUSEPORT, which would let a second daemon share the port.)
void socket_options(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

std::string with_newline(std::string s) {
  if (s.empty() || s.back() != '\n') s += '\n';
  return s;
}

// Runs a handler, turning an exception into a 500 rather than a dropped connection.
template <typename F>
void guarded(httplib::Response& res, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    res.status = 500;
    res.set_content(with_newline(std::string("internal error: ") + e.what()), kTextType);
  } catch (...) {
    res.status = 500;
    res.set_content("internal error\n", kTextType);
  }
}

}  // namespace

Result<ListenAddress> parse_listen_address(const std::string& listen) {
  auto bad = [&](const std::string& why) {
    return make_error("InvalidListenAddress", "listen address \"" + listen + "\": " + why);
  };
  std::string host;
  std::string port_text;
  if (listen.empty()) return bad("empty (expected HOST:PORT, e.g. " + std::string(kDefaultListen) + ")");
  if (listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos) return bad("missing ']' after the IPv6 address");
    host = listen.substr(1, close - 1);
    if (host.empty()) return bad("empty IPv6 address between [ and ]");
    if (close + 1 >= listen.size() || listen[close + 1] != ':') return bad("expected [ADDRESS]:PORT");
    port_text = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      host = "127.0.0.1";  // a bare port: loopback, never all interfaces
      port_text = listen;
    } else {
      host = listen.substr(0, colon);
      port_text = listen.substr(colon + 1);
      if (host.find(':') != std::string::npos) return bad("an IPv6 address must be in brackets: [ADDRESS]:PORT");
      if (host.empty()) return bad("no host; name the address to listen on (127.0.0.1, or 0.0.0.0 for all)");
    }
  }
  if (port_text.empty() || port_text.size() > 5) return bad("expected a port number 0-65535");
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return bad("expected a port number 0-65535");
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return bad("expected a port number 0-65535");
  return ListenAddress{host, port};
}

struct HttpEndpoint::Impl {
  Handlers handlers;
  std::mutex mu;  // start/stop
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  int port = 0;

  void install(httplib::Server& s) {
    s.new_task_queue = [] { return new httplib::ThreadPool(2); };
    s.set_socket_options(socket_options);
    // A scraper holding a keep-alive connection occupies one of the two threads: keep that short.
    s.set_keep_alive_max_count(10);
    s.set_keep_alive_timeout(2);
    s.set_read_timeout(5, 0);
    s.set_write_timeout(5, 0);
    s.set_payload_max_length(64 * 1024);

    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      if (!handlers.metrics) return not_found(res);
      guarded(res, [&] { res.set_content(handlers.metrics(), kMetricsType); });
    });
    s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      guarded(res, [&] {
        auto [healthy, reason] = handlers.health ? handlers.health() : std::pair<bool, std::string>{true, ""};
        if (healthy) {
          // "ok", or "ok, degraded:" and the faults younger than their grace (FaultBook::health).
          res.set_content(reason.starts_with("ok") ? with_newline(reason) : "ok\n", kTextType);
        } else {
          res.status = 503;
          res.set_content(with_newline(reason.empty() ? "unhealthy" : reason), kTextType);
        }
      });
    });
    s.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
      if (!handlers.status_json) return not_found(res);
      guarded(res, [&] { res.set_content(with_newline(handlers.status_json()), kJsonType); });
    });
    // Anything else (another path, or another method on these paths) is 404.
    s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
      not_found(res);
      return httplib::Server::HandlerResponse::Handled;
    });
    s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.status == 404 && res.body.empty()) res.set_content("not found\n", kTextType);
    });
  }

  static void not_found(httplib::Response& res) {
    res.status = 404;
    res.set_content("not found\n", kTextType);
  }

  void stop_locked() {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
    server.reset();
    port = 0;
  }
};

HttpEndpoint::HttpEndpoint(Handlers h) : impl_(std::make_unique<Impl>()) { impl_->handlers = std::move(h); }

HttpEndpoint::~HttpEndpoint() { stop(); }

Status HttpEndpoint::start(const std::string& listen) {
  auto addr = parse_listen_address(listen);
  if (!addr) return addr.error();

  std::lock_guard lock(impl_->mu);
  if (impl_->server) {
    return make_error("AlreadyStarted", "HTTP endpoint: already listening on port " + std::to_string(impl_->port));
  }
  auto server = std::make_unique<httplib::Server>();
  impl_->install(*server);

  errno = 0;
  int port = addr->port;
  bool bound = false;
  if (port == 0) {
    port = server->bind_to_any_port(addr->host);
    bound = port > 0;
  } else {
    bound = server->bind_to_port(addr->host, port);
  }
  if (!bound) {
    int err = errno;
    std::string msg = "cannot listen on " + listen;
    if (err != 0) msg += ": " + std::string(std::strerror(err));
    return make_error("ListenError", msg);
  }

  httplib::Server* s = server.get();
  impl_->thread = std::thread([s] { s->listen_after_bind(); });
  // stop() only closes the socket once the accept loop runs, so wait for it here: a stop() right after start()
  // then always ends the loop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!s->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!s->is_running()) {
    s->stop();
    impl_->thread.join();
    return make_error("ListenError", "cannot listen on " + listen + ": the server did not start");
  }
  impl_->server = std::move(server);
  impl_->port = port;
  return Ok{};
}

int HttpEndpoint::port() const {
  std::lock_guard lock(impl_->mu);
  return impl_->port;
}

void HttpEndpoint::stop() {
  std::lock_guard lock(impl_->mu);
  impl_->stop_locked();
}

}  // namespace hasg::daemon
