#include "support/haproxy_fixture.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <string_view>
#include <vector>

namespace hasg::test {

HaproxyFixture::HaproxyFixture() = default;
HaproxyFixture::~HaproxyFixture() { stop(); }

std::string HaproxyFixture::preamble() {
  return "defaults\n"
         "  mode http\n"
         "  timeout connect 1s\n"
         "  timeout client 10s\n"
         "  timeout server 10s\n";
}

bool HaproxyFixture::available() { return access(kHaproxy, X_OK) == 0; }

void HaproxyFixture::write_config(const std::string& config_text) {
  // "expose-fd listeners" lets a reload take the listening sockets over without a gap (seamless reload).
  write_file(config_path(), "global\n  stats socket " + admin_socket() +
                                " mode 600 level admin expose-fd listeners\n\n" + config_text);
}

bool HaproxyFixture::start(const std::string& config_text, std::chrono::milliseconds timeout) {
  stop();
  write_config(config_text);
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{kHaproxy, "-W", "-S", master_socket(), "-f", config_path()}, EnvOverrides{},
      log_path());
  bool ok = wait_until(
      [&] {
        if (!proc_->alive()) return true;  // gave up: the loop ends, the check below fails
        return runtime("show info").find("Name: HAProxy") != std::string::npos &&
               master("show proc").find("master") != std::string::npos;
      },
      timeout);
  return ok && proc_->alive();
}

void HaproxyFixture::stop() {
  if (!proc_) return;
  proc_.reset();  // Process: SIGTERM to the group, SIGKILL after 3 s
}

bool HaproxyFixture::running() { return proc_ && proc_->alive(); }

std::string HaproxyFixture::runtime(const std::string& cmd) const { return unix_request(admin_socket(), cmd + "\n"); }
std::string HaproxyFixture::master(const std::string& cmd) const { return unix_request(master_socket(), cmd + "\n"); }

int HaproxyFixture::master_reloads() const {
  // "6426            master          0 [failed: 0]   0d00h00m08s     2.6.12-1+deb12u4"
  std::string out = master("show proc");
  size_t pos = out.find(" master ");
  if (pos == std::string::npos) return -1;
  pos += std::strlen(" master ");
  while (pos < out.size() && out[pos] == ' ') ++pos;
  int n = 0;
  bool any = false;
  while (pos < out.size() && out[pos] >= '0' && out[pos] <= '9') {
    n = n * 10 + (out[pos++] - '0');
    any = true;
  }
  return any ? n : -1;
}

std::string HaproxyFixture::log() const { return read_file(log_path()); }

std::string HaproxyFixture::unix_request(const std::string& path, const std::string& text,
                                         std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return "";
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n = send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  // The master CLI answers and closes only once it sees the end of the input.
  shutdown(fd, SHUT_WR);
  std::string out;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

int HaproxyFixture::sessions_in(const std::string& show_stat, const std::string& server) {
  std::istringstream in(show_stat);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> col;
    std::string c;
    std::istringstream f(line);
    while (std::getline(f, c, ',')) col.push_back(c);
    if (col.size() > 4 && col[1] == server) return std::stoi(col[4]);
  }
  return -1;
}

}  // namespace hasg::test
