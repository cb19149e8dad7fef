// The rendered haproxy.cfg is checked with `haproxy -c` before anything relies on it (written with util/files.h).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/files.h"  // write_file_atomic, read_text_file: the config file is written with them
#include "util/result.h"

namespace hasg::haproxy {

// Runs `<binary> -c -f <path>` (no shell; a binary without '/' is looked up in PATH). OK when it exits 0;
// otherwise an Error with code "InvalidConfig" whose message quotes HAProxy's ALERT lines (at most 20). A binary
// that cannot be run, or a check that outlasts `timeout` (then killed), is an Error with code "ValidatorError".
Status validate_config(const std::string& binary, const std::string& path,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace hasg::haproxy
