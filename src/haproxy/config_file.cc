#include "haproxy/config_file.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/files.h"
#include "util/strings.h"

extern char** environ;

namespace hasg::haproxy {
namespace {

namespace fs = std::filesystem;

// "[ALERT]    (15621) : config : [x.cfg:2] : ..." -> "[ALERT] config : [x.cfg:2] : ..." (the pid says nothing).
std::string tidy_message_line(std::string_view line) {
  line = trim(line);
  if (!line.starts_with("[")) return std::string(line);
  size_t close = line.find(']');
  if (close == std::string_view::npos) return std::string(line);
  std::string_view tag = line.substr(0, close + 1);
  std::string_view rest = trim(line.substr(close + 1));
  if (rest.starts_with("(")) {
    size_t paren = rest.find(')');
    if (paren != std::string_view::npos) {
      rest = trim(rest.substr(paren + 1));
      if (rest.starts_with(":")) rest = trim(rest.substr(1));
    }
  }
  return std::string(tag) + " " + std::string(rest);
}

}  // namespace

Status validate_config(const std::string& binary, const std::string& path, std::chrono::milliseconds timeout) {
  // Not `-q`: HAProxy 2.6 then prints nothing at all, not even the ALERT lines that say what is wrong.
  std::vector<std::string> args = {binary, "-c", "-f", path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0)
    return make_error("ValidatorError", std::string("cannot create a pipe: ") + std::strerror(errno));
  UniqueFd rd(pipefd[0]);
  UniqueFd wr(pipefd[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  // dup2 clears close-on-exec on 1 and 2; the pipe's own descriptors close at exec.
  posix_spawn_file_actions_adddup2(&fa, wr.fd, 1);
  posix_spawn_file_actions_adddup2(&fa, wr.fd, 2);
  pid_t pid = -1;
  // The daemon blocks SIGHUP/SIGTERM in every thread (they are taken with sigwait); the child must not inherit
  // that mask, or a hung `haproxy -c` could not be stopped politely.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  int rc = ::posix_spawnp(&pid, binary.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return make_error("ValidatorError", "cannot run " + binary + ": " + std::strerror(rc));
  ::close(wr.release());  // so that EOF comes when the child exits

  // Read everything (bounded: a runaway output must not eat memory) until EOF or the deadline.
  constexpr size_t kMaxOutput = 1 << 20;
  std::string output;
  bool timed_out = false;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{rd.fd, POLLIN, 0};
    int pr = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) {
      timed_out = pr == 0;
      break;
    }
    char buf[8192];
    ssize_t n = ::read(rd.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < kMaxOutput) output.append(buf, static_cast<size_t>(n));
  }
  if (timed_out) ::kill(pid, SIGKILL);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return make_error("ValidatorError", "waiting for " + binary + " -c: " + std::strerror(errno));
  }
  if (timed_out)
    return make_error("ValidatorError", binary + " -c -f " + path + " did not finish within " +
                                            std::to_string(timeout.count()) + " ms (killed)");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok{};

  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  std::vector<std::string> alerts, others;
  for (const auto& raw : split(output, '\n')) {
    std::string_view l = trim(raw);
    if (l.empty() || l.starts_with("[NOTICE]")) continue;
    bool alert = l.starts_with("[ALERT]") || to_lower(l).find("error") != std::string::npos;
    (alert ? alerts : others).push_back(tidy_message_line(l));
  }
  // Without ALERT lines (an unexpected binary, a crash), whatever it said is the best clue.
  std::vector<std::string>& quoted = alerts.empty() ? others : alerts;
  constexpr size_t kMaxLines = 20;
  std::string msg = path + ": rejected by " + binary + " -c (" + how + ")";
  for (size_t i = 0; i < quoted.size() && i < kMaxLines; ++i) msg += "\n" + quoted[i];
  if (quoted.size() > kMaxLines) msg += "\n(" + std::to_string(quoted.size() - kMaxLines) + " more lines)";
  if (quoted.empty()) msg += ", with no message";
  return make_error("InvalidConfig", msg);
}

}  // namespace hasg::haproxy
