// Files on disk, for the rendered configuration and the state file: written atomically (HAProxy, a reload or an
// operator never sees half a file), read whole.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace hasg {

// Closes a descriptor once, whatever the path out of a function.
struct UniqueFd {
  int fd = -1;
  explicit UniqueFd(int f) : fd(f) {}
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

// Writes atomically: temp file in the same directory, write, fsync, rename over `path`, fsync the directory.
// Keeps the mode (and, when permitted, the owner) of an existing file, else 0644. A symlink at `path` is followed,
// so its target is replaced and the link stays. Errors have code "IOError".
Status write_file_atomic(const std::string& path, std::string_view content);

// The whole file. Error code "NotFound" when missing, "IOError" otherwise.
Result<std::string> read_text_file(const std::string& path);

}  // namespace hasg
