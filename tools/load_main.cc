// haproxy-asg-load: a small live HTTP/1.1 load generator for the demo. Keep-alive connections (one thread each,
// blocking sockets, reconnect on close) to a loopback URL, optionally rate-limited; counts every response per
// instance (its body, or the X-Instance-Id header) and every failure by kind; prints a live status every interval.
#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string host_header, path;
};

// Accepts http://HOST[:PORT][/PATH] where HOST is an address in 127.0.0.0/8, [::1], or localhost.
bool parse_url(const std::string& url, Target& t, std::string& err) {
  if (url.rfind("http://", 0) != 0) return err = "only http:// URLs are supported", false;
  std::string rest = url.substr(7);
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority, port = "80";
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return err = "bad IPv6 address in URL", false;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  int p = 0;
  try {
    p = std::stoi(port);
  } catch (...) {
    p = 0;
  }
  if (p <= 0 || p > 65535) return err = "bad port in URL: " + port, false;
  if (host == "localhost") host = "127.0.0.1";
  auto* v4 = reinterpret_cast<sockaddr_in*>(&t.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) return err = host + " is not a loopback address", false;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(p));
    t.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return err = host + " is not a loopback address", false;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(p));
    t.len = sizeof(sockaddr_in6);
  } else {
    return err = "the host must be a loopback address (127.0.0.0/8, ::1 or localhost), not " + host, false;
  }
  t.host_header = authority;
  return true;
}

// Everything the workers count, under one mutex (a few hundred thousand requests a second at most: plenty).
struct Stats {
  std::mutex mu;
  uint64_t total = 0, failed = 0, interval_total = 0;
  std::map<std::string, uint64_t> failures, interval_by_instance, total_by_instance;
  void ok(const std::string& instance) {
    std::lock_guard lock(mu);
    ++total, ++interval_total, ++interval_by_instance[instance], ++total_by_instance[instance];
  }
  void fail(const std::string& kind) {
    std::lock_guard lock(mu);
    ++total, ++interval_total, ++failed, ++failures[kind];
  }
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

class Connection {
 public:
  Connection(const Target& t, int timeout_ms) : t_(t), timeout_ms_(timeout_ms) {}
  ~Connection() { close_fd(); }

  // One request and its response. Returns the failure kind ("" on success), sets instance and keep-alive.
  std::string request(std::string& instance) {
    if (fd_ < 0 && !connect_fd()) return "connect";
    std::string req = "GET " + t_.path + " HTTP/1.1\r\nHost: " + t_.host_header +
                      "\r\nUser-Agent: haproxy-asg-load\r\n\r\n";
    if (send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return drop("reset");
    buf_.clear();
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (auto kind = fill(); !kind.empty()) return drop(kind);
    std::string head = buf_.substr(0, head_end);
    buf_.erase(0, head_end + 4);
    int status = 0;
    if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status) != 1) return drop("bad-response");
    long length = -1;
    bool close_after = false, chunked = false;
    std::string header_id;
    for (size_t pos = head.find("\r\n"); pos != std::string::npos;) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      pos = next;
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = lower(line.substr(0, colon)), value = trim(line.substr(colon + 1));
      if (name == "content-length") length = std::atol(value.c_str());
      else if (name == "connection" && lower(value) == "close") close_after = true;
      else if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) chunked = true;
      else if (name == "x-instance-id") header_id = value;
    }
    std::string body;
    if (chunked) {
      for (;;) {  // size line, data, CRLF; a zero size ends it (trailers are not expected here)
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos)
          if (auto kind = fill(); !kind.empty()) return drop(kind);
        size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
        while (buf_.size() < eol + 2 + size + 2)
          if (auto kind = fill(); !kind.empty()) return drop(kind);
        body += buf_.substr(eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;
      }
    } else if (length >= 0) {
      while (buf_.size() < static_cast<size_t>(length))
        if (auto kind = fill(); !kind.empty()) return drop(kind);
      body = buf_.substr(0, static_cast<size_t>(length));
    } else {  // no length: the body runs until the server closes
      close_after = true;
      for (std::string kind; (kind = fill()).empty();) {
      }
      body = buf_;
    }
    if (close_after) close_fd();
    if (status < 200 || status > 299) return "http-" + std::to_string(status);
    instance = trim(body.substr(0, body.find('\n')));
    if (instance.empty()) instance = header_id.empty() ? "(unknown)" : header_id;
    return "";
  }

 private:
  bool connect_fd() {
    fd_ = socket(t_.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&t_.addr), t_.len) == 0) return true;
    close_fd();
    return false;
  }
  // Reads more into buf_; returns "" or why it could not.
  std::string fill() {
    char tmp[16384];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) return buf_.append(tmp, static_cast<size_t>(n)), "";
    if (n == 0) return "closed";
    if (errno == EINTR) return "";
    return errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : "reset";
  }
  std::string drop(const std::string& kind) {
    close_fd();
    return kind;
  }
  void close_fd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  const Target& t_;
  int timeout_ms_;
  int fd_ = -1;
  std::string buf_;
};

void worker(const Target& t, Stats& stats, int timeout_ms, Clock::duration period, Clock::time_point next) {
  Connection conn(t, timeout_ms);
  while (!g_stop) {
    if (period.count() > 0) {
      auto now = Clock::now();
      if (next < now - std::chrono::seconds(1)) next = now;  // far behind (a stall): do not burst to catch up
      while (!g_stop && Clock::now() < next)
        std::this_thread::sleep_for(std::min<Clock::duration>(next - Clock::now(), std::chrono::milliseconds(50)));
      if (g_stop) break;
      next += period;
    }
    std::string instance, kind = conn.request(instance);
    if (kind.empty()) {
      stats.ok(instance);
    } else {
      stats.fail(kind);
      if (kind == "connect" && period.count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
    else out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, note_file;
  int connections = 8, timeout_ms = 10000;
  double rate = 0, duration = 0, interval = 1;
  bool tty = false, json = false, quiet = false;
  CLI::App app{"haproxy-asg-load: keep-alive HTTP load to a loopback URL, counted per answering instance"};
  app.add_option("url", url, "http://127.0.0.1:PORT/PATH (loopback only: 127.0.0.0/8, ::1)")->required();
  app.add_option("-c,--connections", connections, "keep-alive connections, one thread each")
      ->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("-r,--rate", rate, "total requests per second over all connections (0: as fast as possible)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("-d,--duration", duration, "seconds to run (0: until SIGINT or SIGTERM)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("-i,--interval", interval, "seconds between status reports")->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--timeout-ms", timeout_ms, "a response slower than this fails as 'timeout'")->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  auto* tty_flag = app.add_flag("--tty,!--no-tty", tty, "redraw the status in place with ANSI codes (default: on a terminal)");
  app.add_option("--note-file", note_file, "with --tty, show this file's last lines above the table");
  app.add_flag("--json", json, "print the summary as JSON on stdout (live status goes to stderr)");
  app.add_flag("-q,--quiet", quiet, "no live status, only the summary");
  CLI11_PARSE(app, argc, argv);

  Target target;
  if (std::string err; !parse_url(url, target, err)) {
    std::fprintf(stderr, "haproxy-asg-load: %s\n", err.c_str());
    return 2;
  }
  FILE* live = json ? stderr : stdout;
  if (tty_flag->count() == 0) tty = isatty(fileno(live)) == 1;

  // Workers never see the signals: the main thread handles them and tells everyone to stop.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  Stats stats;
  std::vector<std::thread> threads;
  auto start = Clock::now();
  auto period = rate > 0 ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(connections / rate))
                         : Clock::duration::zero();
  for (int i = 0; i < connections; ++i)  // staggered, so the total rate is even
    threads.emplace_back(worker, std::cref(target), std::ref(stats), timeout_ms, period, start + i * period / connections);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::vector<std::string> order;         // instances in the order they first answered
  std::map<std::string, int> idle_rounds;  // rounds since an instance last answered
  auto last = start;
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  while (!g_stop) {
    auto due = last + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
    if (duration > 0) due = std::min(due, start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration)));
    while (!g_stop && Clock::now() < due) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto now = Clock::now();
    if (duration > 0 && seconds(now - start) >= duration) g_stop = true;
    uint64_t total, failed, window;
    std::map<std::string, uint64_t> by_instance;
    {
      std::lock_guard lock(stats.mu);
      total = stats.total, failed = stats.failed, window = stats.interval_total;
      by_instance.swap(stats.interval_by_instance);
      stats.interval_total = 0;
    }
    double span = std::max(seconds(now - last), 1e-3);
    last = now;
    for (const auto& [id, n] : by_instance)
      if (!idle_rounds.contains(id)) order.push_back(id);
    for (auto& id : order) idle_rounds[id] = by_instance.contains(id) ? 0 : idle_rounds[id] + 1;
    std::erase_if(order, [&](const std::string& id) {  // quiet for more than 3 s: gone from the live view
      if (idle_rounds[id] * interval <= 3) return false;
      idle_rounds.erase(id);
      return true;
    });
    if (quiet) continue;
    std::string out;
    char line[256];
    if (tty) {
      out += "\x1b[H\x1b[2J";
      out += "haproxy-asg-load  " + url + "  " + std::to_string(connections) + " connections";
      out += rate > 0 ? ", " + std::to_string(static_cast<long>(rate)) + " req/s target\n\n" : "\n\n";
      if (!note_file.empty())
        if (FILE* f = std::fopen(note_file.c_str(), "r")) {
          std::vector<std::string> lines;
          for (char buf[512]; std::fgets(buf, sizeof buf, f);) lines.emplace_back(buf);
          std::fclose(f);
          for (size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i) out += lines[i];
          if (!lines.empty()) out += "\n";
        }
      std::snprintf(line, sizeof line, "elapsed %6.1f s   %7.1f req/s   total %llu   failed %llu\n\n",
                    seconds(now - start), window / span, static_cast<unsigned long long>(total),
                    static_cast<unsigned long long>(failed));
      out += line;
      out += "  instance               req/s\n";
      for (const auto& id : order) {
        double r = by_instance[id] / span;
        std::snprintf(line, sizeof line, "  %-20s %6.1f  ", id.c_str(), r);
        out += line + std::string(std::min<size_t>(static_cast<size_t>(r / 4 + 0.5), 60), '#') + "\n";
      }
    } else {
      std::snprintf(line, sizeof line, "[%6.1fs] %6.1f req/s  total %llu  failed %llu |", seconds(now - start),
                    window / span, static_cast<unsigned long long>(total), static_cast<unsigned long long>(failed));
      out += line;
      for (const auto& id : order) out += " " + id + ":" + std::to_string(by_instance[id]);
      out += "\n";
    }
    std::fputs(out.c_str(), live);
    std::fflush(live);
  }
  for (auto& t : threads) t.join();  // each finishes its request in flight

  double elapsed = seconds(Clock::now() - start);
  std::string kinds;
  for (const auto& [kind, n] : stats.failures) kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(n);
  if (json) {
    std::string out = "{\"requests\":" + std::to_string(stats.total) + ",\"failed\":" + std::to_string(stats.failed) +
                      ",\"seconds\":" + std::to_string(elapsed) + ",\"failures\":{";
    const char* sep = "";
    for (const auto& [kind, n] : stats.failures) out += sep + json_string(kind) + ":" + std::to_string(n), sep = ",";
    out += "},\"instances\":{";
    sep = "";
    for (const auto& [id, n] : stats.total_by_instance) out += sep + json_string(id) + ":" + std::to_string(n), sep = ",";
    std::printf("%s}}\n", out.c_str());
  } else {
    std::printf("haproxy-asg-load: %llu requests in %.1f s (%.1f req/s) to %zu instances, %llu failed%s%s%s\n",
                static_cast<unsigned long long>(stats.total), elapsed, stats.total / std::max(elapsed, 1e-3),
                stats.total_by_instance.size(), static_cast<unsigned long long>(stats.failed),
                kinds.empty() ? "" : " (", kinds.c_str(), kinds.empty() ? "" : ")");
  }
  return stats.failed == 0 ? 0 : 1;
}
