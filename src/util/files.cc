#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace hasg {
namespace {

namespace fs = std::filesystem;

Error io_error(const std::string& what, const std::string& path, int err) {
  return make_error("IOError", what + " " + path + ": " + std::strerror(err));
}

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

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd >= 0) ::close(fd);
}

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
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
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
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.fd < 0) return io_error("opening the directory of", target, errno);
  // EINVAL: the filesystem does not sync directories; there is nothing more to do.
  if (::fsync(dfd.fd) != 0 && errno != EINVAL) return io_error("syncing the directory of", target, errno);
  return Ok{};
}

Result<std::string> read_text_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
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

}  // namespace hasg
