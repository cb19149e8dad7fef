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

void DrainWatch::watch(std::map<std::string, core::TimePoint> deadlines) {
  {
    std::lock_guard lock(mu_);
    watched_ = std::move(deadlines);
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
    if (watched_.empty()) {
      cv_.wait(lock, [&] { return stop_ || !watched_.empty(); });
      continue;
    }
    auto watched = watched_;
    std::string socket = socket_;
    lock.unlock();

    std::set<std::string> backends;
    for (const auto& [key, deadline] : watched) backends.insert(key.substr(0, key.find('/')));
    haproxy::UnixSocketTransport transport(socket, std::chrono::milliseconds(1000));
    haproxy::RuntimeClient client(transport);
    auto sessions = client.sessions_by_backend({backends.begin(), backends.end()});
    std::vector<std::pair<std::string, std::string>> ended;  // (key, why)
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
    for (const auto& [key, why] : ended) watched_.erase(key);  // not again until the cycle says what it watches
    if (!ended.empty()) {
      lock.unlock();
      wake_(ended.front().second + (ended.size() > 1 ? " (and " + std::to_string(ended.size() - 1) + " more)" : ""));
      lock.lock();
    }
  }
}

}  // namespace hasg::daemon
