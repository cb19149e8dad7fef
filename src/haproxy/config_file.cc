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

#include "util/strings.h"

extern char** environ;

namespace hasg::haproxy {
namespace {

namespace fs = std::filesystem;

Error io_error(const std::string& what, const std::string& path, int err) {
  return make_error("IOError", what + " " + path + ": " + std::strerror(err));
}

// Closes a descriptor once, whatever the path out of a function.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

// Follows a symlink at `path` (one that points nowhere yet too), so that the link survives and its target is
// replaced: distributions and config managers often symlink /etc/haproxy/haproxy.cfg.
std::string resolve_target(const std::string& path) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return path;
  fs::path real = fs::canonical(path, ec);
  if (!ec) return real.string();
  fs::path link = fs::read_symlink(path, ec);
  if (ec) return path;
  return link.is_absolute() ? link.string() : (fs::path(path).parent_path() / link).string();
}

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

Status write_file_atomic(const std::string& path, std::string_view content) {
  const std::string target = resolve_target(path);
  fs::path dir = fs::path(target).parent_path();
  if (dir.empty()) dir = ".";

  mode_t mode = 0644;
  bool existed = false;
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    existed = true;
    mode = st.st_mode & 07777;
  }

  std::string tmp = (dir / ("." + fs::path(target).filename().string() + ".tmp-XXXXXX")).string();
  Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (fd.fd < 0) return io_error("creating a temporary file next to", target, errno);
  auto fail = [&](const std::string& what, int err) -> Status {
    ::unlink(tmp.c_str());
    return io_error(what, target, err);
  };

  // mkstemp creates 0600: set the final mode explicitly (not subject to the umask).
  if (::fchmod(fd.fd, mode) != 0) return fail("setting the mode of", errno);
  // Running as root, a file owned by e.g. haproxy stays owned by it. Not permitted otherwise: the file then
  // belongs to whoever wrote it, which is the best an unprivileged writer can do.
  if (existed && (st.st_uid != ::geteuid() || st.st_gid != ::getegid())) {
    [[maybe_unused]] int ignored = ::fchown(fd.fd, st.st_uid, st.st_gid);
  }

  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("writing", errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd.fd) != 0) return fail("syncing", errno);
  if (::close(fd.release()) != 0) return fail("closing", errno);
  if (::rename(tmp.c_str(), target.c_str()) != 0) return fail("replacing", errno);

  // The rename itself is durable only once the directory is synced.
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.fd < 0) return io_error("opening the directory of", target, errno);
  // EINVAL: the filesystem does not sync directories; there is nothing more to do.
  if (::fsync(dfd.fd) != 0 && errno != EINVAL) return io_error("syncing the directory of", target, errno);
  return Ok{};
}

Result<std::string> read_text_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) {
    int err = errno;
    if (err == ENOENT) return make_error("NotFound", path + ": " + std::strerror(err));
    return io_error("opening", path, err);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("reading", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status validate_config(const std::string& binary, const std::string& path, std::chrono::milliseconds timeout) {
  // Not `-q`: HAProxy 2.6 then prints nothing at all, not even the ALERT lines that say what is wrong.
  std::vector<std::string> args = {binary, "-c", "-f", path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0)
    return make_error("ValidatorError", std::string("cannot create a pipe: ") + std::strerror(errno));
  Fd rd(pipefd[0]);
  Fd wr(pipefd[1]);

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
