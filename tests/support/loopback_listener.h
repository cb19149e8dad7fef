// A TCP listener on 127.0.0.1 for tests that need a backend server without HTTP: it accepts and closes each
// connection (enough for HAProxy's layer-4 health checks), or with `hold` keeps every connection open without
// answering (a request in flight, a session HAProxy counts until the test closes it).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace hasg::test {

class LoopbackListener {
 public:
  explicit LoopbackListener(bool hold = false) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 64);
    thread_ = std::thread([this, hold] {
      while (!stop_) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        if (!hold) {
          close(c);
          continue;
        }
        std::lock_guard lock(mu_);
        held_.push_back(c);
      }
    });
  }
  ~LoopbackListener() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
    close_all();
  }
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  int port() const { return port_; }
  // Connections held open so far (hold mode).
  size_t accepted() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  // Closes the held connections: the sessions end.
  void close_all() {
    std::lock_guard lock(mu_);
    for (int c : held_) close(c);
    held_.clear();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<int> held_;
  std::thread thread_;
};

}  // namespace hasg::test
