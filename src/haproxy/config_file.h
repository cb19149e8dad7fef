// The rendered haproxy.cfg on disk: written atomically (HAProxy, a reload or an operator never sees half a file)
// and checked with `haproxy -c` before anything relies on it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/result.h"

namespace hasg::haproxy {

// Writes atomically: temp file in the same directory, write, fsync, rename over `path`, fsync the directory.
// Keeps the mode (and, when permitted, the owner) of an existing file, else 0644. A symlink at `path` is followed,
// so its target is replaced and the link stays. Errors have code "IOError".
Status write_file_atomic(const std::string& path, std::string_view content);

// The whole file. Error code "NotFound" when missing, "IOError" otherwise.
Result<std::string> read_text_file(const std::string& path);

// Runs `<binary> -c -f <path>` (no shell; a binary without '/' is looked up in PATH). OK when it exits 0;
// otherwise an Error with code "InvalidConfig" whose message quotes HAProxy's ALERT lines (at most 20). A binary
// that cannot be run, or a check that outlasts `timeout` (then killed), is an Error with code "ValidatorError".
Status validate_config(const std::string& binary, const std::string& path,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace hasg::haproxy
