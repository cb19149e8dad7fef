// A blocking-style exchange over a unix stream socket: connect (with a timeout), write a request while reading the
// answer (so a large pipeline never deadlocks on full buffers), read until the peer closes. Used by the runtime and
// master CLI clients; both end their sessions by closing ("quit", or one command in non-interactive mode).
#pragma once

#include <chrono>
#include <string>

#include "util/result.h"

namespace hasg::haproxy {

// Sends `request` and returns everything read until EOF. `timeout` bounds the connect and any period without
// progress (no byte written or read). With `half_close`, the write side is shut once the request is sent: the
// master CLI (2.6.12) waits for that before it answers and closes. Errors have code "ConnectionError" and are
// retryable, except "HaproxyNotRunning" when the socket file is missing or refuses connections.
Result<std::string> unix_exchange(const std::string& path, const std::string& request,
                                  std::chrono::milliseconds timeout, bool half_close = false);

}  // namespace hasg::haproxy
