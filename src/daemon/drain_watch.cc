#include "daemon/drain_watch.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "haproxy/runtime_client.h"
#include "haproxy/unix_socket.h"

namespace hasg::daemon {

DrainWatch::DrainWatch(std::string runtime_socket, std::chrono::milliseconds period)
    : period_(period), socket_(std::move(runtime_socket)) {}

DrainWatch::~DrainWatch() { stop(); }

Status DrainWatch::start(WakeFn wake) {
  wake_ = std::move(wake);
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { loop(); });
  return Ok{};
}

void DrainWatch::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DrainWatch::watch(std::map<std::string, core::TimePoint> deadlines, std::set<std::string> gated,
                       const std::set<std::string>& rearm) {
  {
    std::lock_guard lock(mu_);
    // Only a drain whose timeout is still ahead: one past it that a cycle keeps (an incomplete discovery) would
    // wake a cycle every period.
    const auto now = core::Clock::now();
    for (const auto& key : rearm)
      if (auto d = deadlines.find(key); d != deadlines.end() && d->second > now) woken_.erase(key);
    // A server it already woke a cycle for stays quiet while it is still watched: that cycle kept it (a discovery
    // that was incomplete, say), and waking again every period would only spin; the interval takes over.
    std::erase_if(woken_, [&](const std::string& key) { return !deadlines.contains(key) && !gated.contains(key); });
    watched_ = std::move(deadlines);
    gated_ = std::move(gated);
  }
  cv_.notify_all();
}

void DrainWatch::set_socket(std::string runtime_socket) {
  std::lock_guard lock(mu_);
  socket_ = std::move(runtime_socket);
}

void DrainWatch::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, period_, [&] { return stop_; });
    if (stop_) return;
    if (watched_.empty() && gated_.empty()) {
      cv_.wait(lock, [&] { return stop_ || !watched_.empty() || !gated_.empty(); });
      continue;
    }
    auto watched = watched_;
    auto gated = gated_;
    for (const auto& key : woken_) {
      watched.erase(key);
      gated.erase(key);
    }
    std::string socket = socket_;
    lock.unlock();
    if (watched.empty() && gated.empty()) {
      lock.lock();
      continue;
    }

    haproxy::UnixSocketTransport transport(socket, std::chrono::milliseconds(1000));
    haproxy::RuntimeClient client(transport);
    std::vector<std::pair<std::string, std::string>> ended;  // (key, why)
    if (!gated.empty()) {
      std::set<std::string> backends;
      for (const auto& key : gated) backends.insert(key.substr(0, key.find('/')));
      // `show servers state` of those backends only (the check columns live there); no `show stat` of everything.
      std::vector<std::string> cmds;
      for (const auto& b : backends) cmds.push_back("show servers state " + b);
      if (auto answers = transport.run(cmds)) {
        for (const auto& answer : *answers) {
          auto parsed = haproxy::parse_servers_state(answer);
          if (!parsed) continue;  // "Can't find backend." after a reload dropped it: the cycle will see
          for (const auto& be : *parsed)
            for (const auto& srv : be.servers) {
              const std::string key = core::server_key(be.backend, srv.name);
              if (gated.contains(key) && srv.check_passed && srv.up)
                ended.emplace_back(key, key + " passed its first health check");
            }
        }
      }
    }
    std::set<std::string> backends;
    for (const auto& [key, deadline] : watched) backends.insert(key.substr(0, key.find('/')));
    auto sessions = backends.empty() ? Result<std::map<std::string, haproxy::RuntimeClient::Sessions>>(
                                           std::map<std::string, haproxy::RuntimeClient::Sessions>{})
                                     : client.sessions_by_backend({backends.begin(), backends.end()});
    const auto now = core::Clock::now();
    for (const auto& [key, deadline] : watched) {
      std::string reason;
      if (now >= deadline) {
        reason = "drain timeout of " + key + " passed";
      } else if (sessions) {
        const auto slash = key.find('/');
        auto be = sessions->find(key.substr(0, slash));
        const std::string server = key.substr(slash + 1);
        int scur = 0;
        bool present = false;
        if (be != sessions->end())
          for (const auto& [name, n] : be->second)
            if (name == server) {
              present = true;
              scur = n;
            }
        // A server HAProxy no longer has is not a drain that ended: the book keeps one only while an old worker
        // may still serve it after a reload (the planner's word), and only its timeout can end that.
        if (present && scur <= 0) reason = "drain of " + key + " ended (0 sessions)";
      }
      // A socket error (HAProxy restarting) is not a reason: the next look, or the interval, will tell.
      if (!reason.empty()) ended.emplace_back(key, std::move(reason));
    }

    lock.lock();
    for (const auto& [key, why] : ended) woken_.insert(key);
    if (!ended.empty()) {
      lock.unlock();
      wake_(ended.front().second + (ended.size() > 1 ? " (and " + std::to_string(ended.size() - 1) + " more)" : ""));
      lock.lock();
    }
  }
}

}  // namespace hasg::daemon
