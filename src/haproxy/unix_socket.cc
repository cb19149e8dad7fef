#include "haproxy/unix_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "util/files.h"

namespace hasg::haproxy {

namespace {

Error conn_error(const std::string& path, const std::string& what, int err = 0) {
  std::string msg = "HAProxy socket " + path + ": " + what;
  if (err != 0) msg += ": " + std::string(std::strerror(err));
  return make_error("ConnectionError", msg, /*retryable=*/true);
}

int poll_ms(std::chrono::milliseconds t) {
  auto c = t.count();
  return c > 0x7fffffff ? 0x7fffffff : static_cast<int>(c < 1 ? 1 : c);
}

}  // namespace

Result<std::string> unix_exchange(const std::string& path, const std::string& request,
                                  std::chrono::milliseconds timeout, bool half_close) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return conn_error(path, "bad socket path");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.fd < 0) return conn_error(path, "socket", errno);

  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    // A unix socket connects at once or fails, except EAGAIN when the listen backlog is full.
    if (errno == ENOENT || errno == ECONNREFUSED) {
      // Nothing listens there: HAProxy is not running (or not yet). Every other failure (EACCES, a stall) is an
      // error the operator must see, not a reason to treat HAProxy as absent.
      Error e = conn_error(path, "connect", errno);
      e.code = "HaproxyNotRunning";
      return e;
    }
    if (errno != EINPROGRESS && errno != EAGAIN) return conn_error(path, "connect", errno);
    pollfd p{s.fd, POLLOUT, 0};
    int r = ::poll(&p, 1, poll_ms(timeout));
    if (r == 0) return conn_error(path, "connect timed out");
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (r < 0 || ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)
      return conn_error(path, "connect", soerr != 0 ? soerr : errno);
  }

  std::string out;
  size_t written = 0;
  char buf[65536];
  for (;;) {
    pollfd p{s.fd, static_cast<short>(POLLIN | (written < request.size() ? POLLOUT : 0)), 0};
    int r = ::poll(&p, 1, poll_ms(timeout));
    if (r < 0) {
      if (errno == EINTR) continue;
      return conn_error(path, "poll", errno);
    }
    if (r == 0)
      return conn_error(path, "timed out after " + std::to_string(timeout.count()) + " ms without progress (" +
                                  std::to_string(written) + " of " + std::to_string(request.size()) +
                                  " bytes sent, " + std::to_string(out.size()) + " received)");
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        break;  // the peer closed: the whole answer is in
      } else if (errno != EAGAIN && errno != EINTR) {
        // HAProxy may close with unread input (e.g. after "quit"): what was read is the answer.
        if (errno == ECONNRESET && written == request.size()) break;
        return conn_error(path, "read", errno);
      }
    }
    if (written < request.size() && (p.revents & POLLOUT)) {
      ssize_t n = ::send(s.fd, request.data() + written, request.size() - written, MSG_NOSIGNAL);
      if (n > 0) {
        written += static_cast<size_t>(n);
        if (written == request.size() && half_close) ::shutdown(s.fd, SHUT_WR);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        if (errno == EPIPE || errno == ECONNRESET) {
          // Closed on us before taking everything: keep reading what it said, the caller judges.
          written = request.size();
          continue;
        }
        return conn_error(path, "write", errno);
      }
    }
  }
  return out;
}

UnixSocketTransport::UnixSocketTransport(std::string socket_path, std::chrono::milliseconds timeout)
    : path_(std::move(socket_path)), timeout_(timeout) {}

Result<std::vector<std::string>> UnixSocketTransport::send(const std::vector<Command>& commands) {
  if (commands.empty()) return std::vector<std::string>{};
  // Interactive mode: "prompt" first, then one command per line (a payload's lines and its ending empty line
  // after it), then "quit" (HAProxy closes the connection). HAProxy reads the pipelined lines one by one and
  // prints each answer followed by the prompt.
  std::string request = "prompt\n";
  size_t payload_bytes = 0;
  for (const auto& c : commands) {
    if (auto st = check_command(c); !st) return st.error();
    request += frame_command(c);
    payload_bytes = std::max(payload_bytes, c.payload.size());
  }
  request += "quit\n";
  auto raw = unix_exchange(path_, request, timeout_);
  if (!raw) return raw.error();
  auto answers = split_prompt_answers(*raw, commands.size());
  if (!answers) {
    Error e = answers.error();
    e.message = "HAProxy socket " + path_ + ": " + e.message;
    // 2.6.12 gathers a command and its payload in one buffer of tune.bufsize bytes (16384 by default) and closes
    // the connection when they do not fit: seen with a 16 kB payload, answered by nothing but "+ " prompts.
    if (payload_bytes > 0)
      e.message += " (a command with a payload must fit with it in HAProxy's tune.bufsize, 16384 bytes by default; "
                   "the largest payload here has " + std::to_string(payload_bytes) + " bytes)";
    return e;
  }
  for (size_t i = 0; i < commands.size(); ++i)
    if (!commands[i].payload.empty())
      (*answers)[i] = strip_payload_prompts(std::move((*answers)[i]), payload_lines(commands[i]) + 1);
  return answers;
}

Result<std::vector<std::string>> split_prompt_answers(const std::string& raw, size_t commands) {
  static constexpr std::string_view kPrompt = "\n> ";
  std::vector<std::string> pieces;
  size_t start = 0;
  for (;;) {
    size_t pos = raw.find(kPrompt, start);
    if (pos == std::string::npos) break;
    pieces.emplace_back(raw.substr(start, pos - start));
    start = pos + kPrompt.size();
  }
  // pieces[0] is the answer to "prompt" itself; then one per command.
  if (pieces.size() < commands + 1) {
    size_t got = pieces.empty() ? 0 : pieces.size() - 1;
    return make_error("ProtocolError",
                      "expected " + std::to_string(commands) + " answers in prompt mode, got " + std::to_string(got) +
                          (pieces.empty() ? "; HAProxy said \"" + one_line(raw) + "\"" : ""),
                      /*retryable=*/true);
  }
  std::vector<std::string> out;
  out.reserve(commands);
  for (size_t i = 1; i <= commands; ++i) {
    std::string a = std::move(pieces[i]);
    while (!a.empty() && (a.back() == '\n' || a.back() == '\r')) a.pop_back();
    out.push_back(std::move(a));
  }
  return out;
}

std::string strip_payload_prompts(std::string answer, size_t prompts) {
  static constexpr std::string_view kPayloadPrompt = "+ ";
  size_t pos = 0;
  while (prompts > 0 && std::string_view(answer).substr(pos).starts_with(kPayloadPrompt)) {
    pos += kPayloadPrompt.size();
    --prompts;
  }
  return answer.substr(pos);
}

}  // namespace hasg::haproxy
