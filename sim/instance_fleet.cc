// The simulated instances' HTTP servers. One epoll thread serves every listener and connection; cpp-httplib is not
// used because it spends a thread pool per server, and the simulator runs thousands of instances in one process.
//
// Concurrency: one mutex guards every map (instances, listeners, connections). The loop waits in epoll_wait without
// it and takes it to handle a batch of events; public methods take it too, so kill() can close sockets directly from
// the caller's thread. epoll reports a token (never reused), not an fd, so an event that was already fetched for a
// socket that kill() closed (and whose fd number may since be reused) is recognised as stale and dropped. The timer
// heap is touched only by the loop thread.
//
// File descriptors: the constructor raises the soft RLIMIT_NOFILE to the hard limit for the whole process, since
// 5,000 instances need 5,000 listeners plus their connections (the usual soft limit is 1,024).
#include "sim/instance_fleet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <queue>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace hasg::sim {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kWakeToken = 0;             // the eventfd; real tokens start at 1
constexpr size_t kMaxHeaderBytes = 64 * 1024;  // a request head larger than this gets 431
constexpr size_t kMaxOutBytes = 256 * 1024;    // stop reading a pipelining client until it drains its answers
constexpr size_t kMaxPending = 1024;           // same, for answers waiting out delay_ms
constexpr size_t kAcceptBatch = 64;            // accepts per listener event, so one busy listener cannot starve others
constexpr auto kAcceptPause = std::chrono::milliseconds(100);  // after EMFILE: retry later instead of spinning
constexpr int kMaxAskedDelayMs = 60000;        // the most a request may ask for with ?delay_ms=

std::string errno_text(int e) { return std::system_category().message(e); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Index just past the blank line ending the head that starts at `from` (CRLF or bare LF lines), or npos.
size_t find_head_end(std::string_view s, size_t from) {
  for (size_t i = s.find('\n', from); i != std::string_view::npos; i = s.find('\n', i + 1)) {
    if (i + 1 < s.size() && s[i + 1] == '\n') return i + 2;
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

struct Request {
  bool valid = false;
  bool chunked = false;
  bool head = false;     // HEAD: headers only
  bool http10 = false;
  bool keep_alive = true;
  size_t content_length = 0;
  int delay_ms = -1;     // ?delay_ms=N in the target: this answer's delay instead of the instance's
};

// The value of ?delay_ms=N (or &delay_ms=N) in a request target: -1 when absent, -2 when not a number of at most
// kMaxAskedDelayMs.
int asked_delay(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return -1;
  std::string_view query = target.substr(q + 1);
  constexpr std::string_view kKey = "delay_ms=";
  for (size_t at = 0; at < query.size();) {
    size_t amp = query.find('&', at);
    std::string_view param = query.substr(at, amp == std::string_view::npos ? std::string_view::npos : amp - at);
    if (param.starts_with(kKey)) {
      std::string_view v = param.substr(kKey.size());
      if (v.empty() || v.size() > 5) return -2;
      int n = 0;
      for (char c : v) {
        if (c < '0' || c > '9') return -2;
        n = n * 10 + (c - '0');
      }
      return n <= kMaxAskedDelayMs ? n : -2;
    }
    if (amp == std::string_view::npos) break;
    at = amp + 1;
  }
  return -1;
}

Request parse_head(std::string_view head) {
  Request r;
  size_t eol = head.find('\n');
  std::string_view line = trim(head.substr(0, eol));
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return r;
  std::string_view method = line.substr(0, sp1);
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.0") {
    r.http10 = true;
    r.keep_alive = false;
  } else if (version != "HTTP/1.1") {
    return r;
  }
  r.head = method == "HEAD";
  r.delay_ms = asked_delay(line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (r.delay_ms == -2) return r;
  bool saw_close = false, saw_keep_alive = false;
  while (eol != std::string_view::npos) {
    size_t start = eol + 1;
    eol = head.find('\n', start);
    std::string_view h = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;  // the blank terminator line
    std::string_view name = trim(h.substr(0, colon));
    std::string_view value = trim(h.substr(colon + 1));
    if (iequals(name, "connection")) {
      while (!value.empty()) {
        size_t comma = value.find(',');
        std::string_view token = trim(value.substr(0, comma));
        if (iequals(token, "close")) saw_close = true;
        if (iequals(token, "keep-alive")) saw_keep_alive = true;
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
      }
    } else if (iequals(name, "content-length")) {
      size_t n = 0;
      if (value.empty() || value.size() > 15) return r;
      for (char c : value) {
        if (c < '0' || c > '9') return r;
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      r.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      r.chunked = true;  // any transfer coding on a request: we only skip Content-Length bodies
    }
  }
  if (saw_close) r.keep_alive = false;
  else if (r.http10 && saw_keep_alive) r.keep_alive = true;
  r.valid = true;
  return r;
}

enum class Answer { kOk, kBadRequest, kHeadTooLarge, kNotImplemented };

const char* error_response(Answer a) {
  switch (a) {
    case Answer::kBadRequest:
      return "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    case Answer::kHeadTooLarge:
      return "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    default:
      return "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  }
}

struct Instance {
  std::string id;
  std::string endpoint;  // "address:port", for messages
  int delay_ms = 0;
  int jitter_ms = 0;    // each answer's delay is delay_ms +- up to jitter_ms (uniform)
  bool stream = false;  // with delay_ms: the head and the body's first byte at once, the rest after delay_ms
  int listen_fd = -1;
  uint64_t listen_token = 0;
  bool running = false;
  std::unordered_set<uint64_t> conns;
  // Kept across kill() and restart: requests(id) is what this id has answered in all.
  std::atomic<uint64_t> requests{0};
  std::optional<Clock::time_point> first_request;  // same; guarded by the fleet's mutex
  std::string head_prefix;  // status line and the headers common to every answer
  std::string body;
};

struct Pending {
  Clock::time_point due;
  Answer answer;
  bool keep_alive;
  bool http10;
  bool head;
  bool tail = false;  // a streamed answer's second part: the rest of the body
  bool streamed = false;  // the head part of a streamed answer: the body's first byte only
};

struct Conn {
  int fd = -1;
  std::shared_ptr<Instance> inst;
  std::string in;
  size_t skip = 0;  // request body bytes still to discard
  std::string out;
  size_t out_off = 0;
  std::deque<Pending> pending;  // answers in request order, waiting for delay_ms
  bool stop_reading = false;    // after a closing request, a bad request, or the peer's EOF
  bool close_after = false;     // close once `out` and `pending` are done
  uint32_t interest = 0;
};

}  // namespace

struct InstanceFleet::Impl {
  mutable std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<Instance>> instances;
  std::unordered_map<uint64_t, std::shared_ptr<Instance>> listeners;  // token -> instance
  std::unordered_map<uint64_t, Conn> conns;                           // token -> connection
  uint64_t next_token = 1;
  size_t running_count = 0;

  int epfd = -1;
  int wakefd = -1;
  std::atomic<bool> stop{false};
  std::thread thread;

  // Loop thread only.
  using Timer = std::pair<Clock::time_point, uint64_t>;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::vector<char> buf = std::vector<char>(64 * 1024);
  uint64_t jitter_state = 0x9E3779B97F4A7C15ull;  // xorshift64 for answer delays; fixed seed: reproducible runs
  uint64_t jitter() {
    jitter_state ^= jitter_state << 13;
    jitter_state ^= jitter_state >> 7;
    jitter_state ^= jitter_state << 17;
    return jitter_state;
  }

  Impl();
  ~Impl();
  void run();
  void on_listener(uint64_t token, const std::shared_ptr<Instance>& inst);
  void on_conn(uint64_t token, uint32_t events, Clock::time_point now);
  void on_timer(uint64_t token, Clock::time_point now);
  void parse(Conn& c, uint64_t token, Clock::time_point now);
  void queue(Conn& c, uint64_t token, const Pending& p, Clock::time_point now);
  void emit(Conn& c, const Pending& p);
  void settle(uint64_t token);
  void close_conn(std::unordered_map<uint64_t, Conn>::iterator it, bool reset);
  void close_instance(Instance& inst);
};

InstanceFleet::Impl::Impl() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);  // best effort: with the old limit we still work, for fewer instances
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) throw std::system_error(errno, std::system_category(), "instance fleet: epoll_create1");
  wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd < 0) {
    int e = errno;
    close(epfd);
    throw std::system_error(e, std::system_category(), "instance fleet: eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
  thread = std::thread([this] { run(); });
}

InstanceFleet::Impl::~Impl() {
  stop = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wakefd, &one, sizeof one);
  thread.join();
  for (auto& [id, inst] : instances) close_instance(*inst);
  close(wakefd);
  close(epfd);
}

void InstanceFleet::Impl::run() {
  std::vector<epoll_event> events(256);
  while (!stop) {
    int timeout = -1;
    if (!timers.empty()) {
      auto wait = timers.top().first - Clock::now();
      // Round up so the loop never wakes before the deadline and spins.
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
      timeout = static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
    }
    int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) break;  // only EBADF/EINVAL, i.e. a bug: stop serving rather than spin
    std::lock_guard lock(mu);
    auto now = Clock::now();
    for (int i = 0; i < n; ++i) {
      uint64_t token = events[static_cast<size_t>(i)].data.u64;
      if (token == kWakeToken) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = read(wakefd, &v, sizeof v);
      } else if (auto l = listeners.find(token); l != listeners.end()) {
        on_listener(token, l->second);
      } else if (conns.count(token) != 0) {
        on_conn(token, events[static_cast<size_t>(i)].events, now);
      }  // else: stale, closed by kill() after epoll_wait returned
    }
    now = Clock::now();
    while (!timers.empty() && timers.top().first <= now) {
      uint64_t token = timers.top().second;
      timers.pop();
      on_timer(token, now);
    }
  }
}

void InstanceFleet::Impl::on_listener(uint64_t token, const std::shared_ptr<Instance>& inst) {
  for (size_t i = 0; i < kAcceptBatch; ++i) {
    int fd = accept4(inst->listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: the pending connection would wake us again at once. Mute the listener for a while.
        epoll_event ev{};
        ev.data.u64 = token;
        epoll_ctl(epfd, EPOLL_CTL_MOD, inst->listen_fd, &ev);
        timers.emplace(Clock::now() + kAcceptPause, token);
      }
      return;  // EAGAIN: all accepted
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint64_t ct = next_token++;
    Conn& c = conns[ct];
    c.fd = fd;
    c.inst = inst;
    c.interest = EPOLLIN;
    inst->conns.insert(ct);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = ct;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) close_conn(conns.find(ct), true);
  }
}

void InstanceFleet::Impl::on_conn(uint64_t token, uint32_t events, Clock::time_point now) {
  auto it = conns.find(token);
  Conn& c = it->second;
  if (events & (EPOLLERR | EPOLLHUP)) {  // reset or fully closed: nobody left to answer
    close_conn(it, false);
    return;
  }
  if ((events & EPOLLIN) && !c.stop_reading) {
    ssize_t n = recv(c.fd, buf.data(), buf.size(), 0);
    if (n > 0) {
      c.in.append(buf.data(), static_cast<size_t>(n));
      parse(c, token, now);
    } else if (n == 0) {  // peer's EOF: answer what was asked, then close
      c.stop_reading = true;
      c.close_after = true;
      c.in.clear();
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      close_conn(it, false);
      return;
    }
  }
  settle(token);
}

void InstanceFleet::Impl::on_timer(uint64_t token, Clock::time_point now) {
  if (auto l = listeners.find(token); l != listeners.end()) {  // end of an accept pause
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = token;
    epoll_ctl(epfd, EPOLL_CTL_MOD, l->second->listen_fd, &ev);
    return;
  }
  auto it = conns.find(token);
  if (it == conns.end()) return;
  Conn& c = it->second;
  while (!c.pending.empty() && c.pending.front().due <= now) {
    emit(c, c.pending.front());
    c.pending.pop_front();
  }
  settle(token);
}

void InstanceFleet::Impl::parse(Conn& c, uint64_t token, Clock::time_point now) {
  // An answer's delay: the instance's, or the one its request asked for (?delay_ms=N), spread by the jitter.
  auto delay_of = [&](int base) {
    if (c.inst->jitter_ms > 0)
      base = std::max(0, base + static_cast<int>(jitter() % static_cast<uint64_t>(2 * c.inst->jitter_ms + 1)) -
                             c.inst->jitter_ms);
    return base;
  };
  const auto due = now + std::chrono::milliseconds(delay_of(c.inst->delay_ms));
  std::string_view in = c.in;
  size_t pos = 0;
  while (!c.stop_reading) {
    if (c.skip > 0) {
      size_t k = std::min(c.skip, in.size() - pos);
      pos += k;
      c.skip -= k;
      if (c.skip > 0) break;
    }
    while (pos < in.size() && (in[pos] == '\r' || in[pos] == '\n')) ++pos;  // stray CRLFs between requests
    if (pos == in.size()) break;
    size_t end = find_head_end(in, pos);
    if (end == std::string_view::npos) {
      if (in.size() - pos > kMaxHeaderBytes) {
        queue(c, token, Pending{due, Answer::kHeadTooLarge, false, false, false}, now);
        c.stop_reading = c.close_after = true;
      }
      break;
    }
    Request r = parse_head(in.substr(pos, end - pos));
    pos = end;
    if (!r.valid || r.chunked) {
      queue(c, token, Pending{due, r.valid ? Answer::kNotImplemented : Answer::kBadRequest, false, false, false}, now);
      c.stop_reading = c.close_after = true;
      break;
    }
    c.skip = r.content_length;
    const int base = r.delay_ms >= 0 ? r.delay_ms : c.inst->delay_ms;
    const auto answer_due = r.delay_ms >= 0 ? now + std::chrono::milliseconds(delay_of(base)) : due;
    if (c.inst->stream && base > 0 && !r.head) {  // streamed: started now, finished at `answer_due`
      queue(c, token, Pending{now, Answer::kOk, r.keep_alive, r.http10, false, false, true}, now);
      queue(c, token, Pending{answer_due, Answer::kOk, r.keep_alive, r.http10, false, true}, now);
    } else {
      queue(c, token, Pending{answer_due, Answer::kOk, r.keep_alive, r.http10, r.head}, now);
    }
    if (!r.keep_alive) c.stop_reading = c.close_after = true;
  }
  if (c.stop_reading) c.in.clear();
  else c.in.erase(0, pos);
}

void InstanceFleet::Impl::queue(Conn& c, uint64_t token, const Pending& p, Clock::time_point now) {
  if (c.pending.empty() && p.due <= now) {
    emit(c, p);
    return;
  }
  c.pending.push_back(p);  // answers leave in request order, so anything behind a delayed one waits too
  if (p.due > now) timers.emplace(p.due, token);
}

void InstanceFleet::Impl::emit(Conn& c, const Pending& p) {
  if (p.answer != Answer::kOk) {
    c.out += error_response(p.answer);
    return;
  }
  const Instance& inst = *c.inst;
  const bool streamed = p.streamed;
  if (p.tail) {
    c.out.append(inst.body, 1);  // the streamed body's rest
    return;
  }
  c.out += inst.head_prefix;
  if (!p.keep_alive) c.out += "Connection: close\r\n";
  else if (p.http10) c.out += "Connection: keep-alive\r\n";
  c.out += "\r\n";
  if (streamed) c.out += inst.body.front();  // the rest follows as a Pending tail
  else if (!p.head) c.out += inst.body;
  if (!c.inst->first_request) c.inst->first_request = Clock::now();
  c.inst->requests.fetch_add(1, std::memory_order_relaxed);
}

// Writes what it can, then closes the connection or sets its epoll interest to what it now waits for.
void InstanceFleet::Impl::settle(uint64_t token) {
  auto it = conns.find(token);
  if (it == conns.end()) return;
  Conn& c = it->second;
  while (c.out_off < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      close_conn(it, false);
      return;
    }
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  if (c.close_after && c.out.empty() && c.pending.empty()) {
    close_conn(it, false);
    return;
  }
  uint32_t want = 0;
  if (!c.stop_reading && c.out.size() < kMaxOutBytes && c.pending.size() < kMaxPending) want |= EPOLLIN;
  if (!c.out.empty()) want |= EPOLLOUT;
  if (want != c.interest) {
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = token;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
    c.interest = want;
  }
}

void InstanceFleet::Impl::close_conn(std::unordered_map<uint64_t, Conn>::iterator it, bool reset) {
  if (reset) {
    linger lg{1, 0};  // close() then sends RST instead of FIN, as a machine that vanished
    setsockopt(it->second.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  close(it->second.fd);  // also removes it from the epoll set
  it->second.inst->conns.erase(it->first);
  conns.erase(it);
}

void InstanceFleet::Impl::close_instance(Instance& inst) {
  if (!inst.running) return;
  close(inst.listen_fd);
  listeners.erase(inst.listen_token);
  for (uint64_t t : std::vector<uint64_t>(inst.conns.begin(), inst.conns.end())) {
    if (auto it = conns.find(t); it != conns.end()) close_conn(it, true);
  }
  inst.conns.clear();
  inst.listen_fd = -1;
  inst.listen_token = 0;
  inst.running = false;
  --running_count;
}

InstanceFleet::InstanceFleet() : impl_(std::make_unique<Impl>()) {}
InstanceFleet::~InstanceFleet() = default;

Status InstanceFleet::start(const std::string& id, const std::string& address, int port, int delay_ms, bool stream,
                            int jitter_ms) {
  const std::string endpoint = address + ":" + std::to_string(port);
  if (id.empty()) return make_error("InvalidParameter", "cannot start an instance without an id on " + endpoint);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
    return make_error("InvalidParameter", "cannot listen on " + endpoint + ": not an IPv4 address");
  if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127)  // the test rig never touches anything but loopback
    return make_error("InvalidParameter", "cannot listen on " + endpoint + ": not a loopback address (127.0.0.0/8)");
  if (port <= 0 || port > 65535)
    return make_error("InvalidParameter", "cannot listen on " + endpoint + ": port out of range");
  if (delay_ms < 0 || jitter_ms < 0) return make_error("InvalidParameter", "negative delay for instance " + id);
  sa.sin_port = htons(static_cast<uint16_t>(port));

  auto already_running = [&](const Instance& inst) {
    return make_error("AlreadyRunning", "instance " + id + " is already running on " + inst.endpoint);
  };
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->instances.find(id);
    if (it != impl_->instances.end() && it->second->running) return already_running(*it->second);
  }

  // Socket setup on the caller's thread, without the lock: the loop keeps serving meanwhile.
  auto fail = [&](int fd) {
    int e = errno;
    if (fd >= 0) close(fd);
    return make_error("ListenError", "cannot listen on " + endpoint + ": " + errno_text(e));
  };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fd);
  int one = 1;
  // A restarted instance rebinds while its old connections may sit in TIME_WAIT.
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return fail(fd);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return fail(fd);
  if (listen(fd, SOMAXCONN) != 0) return fail(fd);

  std::lock_guard lock(impl_->mu);
  auto& slot = impl_->instances[id];
  if (!slot) slot = std::make_shared<Instance>();
  Instance& inst = *slot;
  if (inst.running) {  // a concurrent start() of the same id won
    close(fd);
    return already_running(inst);
  }
  inst.id = id;
  inst.endpoint = endpoint;
  inst.delay_ms = delay_ms;
  inst.stream = stream;
  inst.jitter_ms = jitter_ms;
  inst.body = id + "\n";
  inst.head_prefix = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                     std::to_string(inst.body.size()) + "\r\nX-Instance-Id: " + id + "\r\n";
  uint64_t token = impl_->next_token++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = token;
  if (epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return fail(fd);
  inst.listen_fd = fd;
  inst.listen_token = token;
  inst.running = true;
  impl_->listeners.emplace(token, slot);
  ++impl_->running_count;
  return Ok{};
}

void InstanceFleet::kill(const std::string& id) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->instances.find(id);
  if (it != impl_->instances.end()) impl_->close_instance(*it->second);
}

bool InstanceFleet::running(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->instances.find(id);
  return it != impl_->instances.end() && it->second->running;
}

uint64_t InstanceFleet::requests(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->instances.find(id);
  return it == impl_->instances.end() ? 0 : it->second->requests.load(std::memory_order_relaxed);
}

std::optional<Clock::time_point> InstanceFleet::first_request_time(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->instances.find(id);
  return it == impl_->instances.end() ? std::nullopt : it->second->first_request;
}

size_t InstanceFleet::size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->running_count;
}

}  // namespace hasg::sim
