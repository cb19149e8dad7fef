#include "util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "util/files.h"

extern char** environ;

namespace hasg {

std::string ProgramResult::how() const {
  return exited ? "exit status " + std::to_string(status) : "killed by signal " + std::to_string(status);
}

Result<ProgramResult> run_program(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                                  size_t max_output) {
  if (args.empty()) return make_error("SpawnError", "no program to run");
  const std::string& program = args.front();
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0)
    return make_error("SpawnError", std::string("cannot create a pipe: ") + std::strerror(errno));
  UniqueFd rd(pipefd[0]);
  UniqueFd wr(pipefd[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  // dup2 clears close-on-exec on 1 and 2; the pipe's own descriptors close at exec.
  posix_spawn_file_actions_adddup2(&fa, wr.fd, 1);
  posix_spawn_file_actions_adddup2(&fa, wr.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, program.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return make_error("SpawnError", "cannot run " + program + ": " + std::strerror(rc));
  ::close(wr.release());  // so that EOF comes when the child exits

  // Read everything (bounded: a runaway output must not eat memory) until EOF or the deadline.
  ProgramResult result;
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
    if (result.output.size() < max_output) result.output.append(buf, static_cast<size_t>(n));
  }
  if (timed_out) ::kill(pid, SIGKILL);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error("SpawnError", "waiting for " + program + ": " + std::strerror(errno));
  }
  if (timed_out)
    return make_error("Timeout", program + " did not finish within " + std::to_string(timeout.count()) +
                                     " ms (killed)");
  result.exited = WIFEXITED(status);
  result.status = result.exited ? WEXITSTATUS(status) : WTERMSIG(status);
  return result;
}

}  // namespace hasg
